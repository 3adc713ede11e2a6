"""Kula's benchmarks and simulations; run them with ``python -m bench`` (see bench/README.md)."""
