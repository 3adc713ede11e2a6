"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from node.settings import Settings, settings_from_mapping

TEST_PASSWORD = "correct horse battery staple"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "url": "http://127.0.0.1:8080",
        "name": "Test community",
        "development": True,
        "allow_private_network": True,
        "registration": "open",
        "run_workers": False,
        "log_format": "text",
    }
    values.update(overrides)
    data_dir.mkdir(parents=True, exist_ok=True)
    return settings_from_mapping(data_dir, values, {})
