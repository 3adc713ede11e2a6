"""Domain services: what the node does, independent of HTTP and the CLI."""
