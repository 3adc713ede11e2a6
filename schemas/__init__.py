"""Kula's JSON Schemas (draft 2020-12), shipped as package data.

Each schema is ``<name>.schema.json`` with ``$id``
``https://kula.community/schemas/<name>.schema.json``; ``$ref`` between them
are relative to that base, so a validator resolves them from this folder and
never from the network. See README.md here for the list.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

SCHEMA_DIR: Traversable = files(__name__)
SCHEMA_BASE_URI = "https://kula.community/schemas/"
SCHEMA_SUFFIX = ".schema.json"
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def schema_names() -> list[str]:
    """Names of every shipped schema, sorted (``"proposal"``, ``"offer"`` ...)."""
    return sorted(
        entry.name.removesuffix(SCHEMA_SUFFIX)
        for entry in SCHEMA_DIR.iterdir()
        if entry.name.endswith(SCHEMA_SUFFIX)
    )


def load_schema(name: str) -> dict[str, Any]:
    """Return the parsed schema called ``name``; KeyError if there is none."""
    # The name is checked before touching the file system so no caller can
    # reach outside this folder with "../".
    if not _NAME.match(name):
        raise KeyError(f"no schema named {name!r}")
    resource = SCHEMA_DIR / f"{name}{SCHEMA_SUFFIX}"
    if not resource.is_file():
        raise KeyError(f"no schema named {name!r}")
    return json.loads(resource.read_text(encoding="utf-8"))
