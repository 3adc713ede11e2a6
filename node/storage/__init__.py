"""Storage: one interface (:mod:`node.storage.base`), one module per backend."""

from __future__ import annotations

from node.errors import ConfigError
from node.settings import Settings
from node.storage.base import Session, Storage


def create_storage(settings: Settings) -> Storage:
    """The backend the settings ask for: SQLite in the data directory by default,
    PostgreSQL for a ``postgresql://`` URL."""
    url = settings.database_url
    if not url or url.startswith("sqlite:"):
        from node.storage.sqlite import SqliteStorage

        path = settings.database_path
        if url.startswith("sqlite:") and url.removeprefix("sqlite:").strip("/"):
            path = settings.data_dir / url.removeprefix("sqlite:").lstrip("/")
        return SqliteStorage(path)
    if url.startswith(("postgresql://", "postgres://")):
        from node.storage.postgres import PostgresStorage

        return PostgresStorage(url)
    raise ConfigError(f"database_url {url!r}: this node has no backend for it yet")


__all__ = ["Session", "Storage", "create_storage"]
