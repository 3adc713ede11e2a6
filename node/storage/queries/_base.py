"""What every query mixin may call: the backend's four primitives."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

Row = Mapping[str, Any]


class QueryBase:
    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        raise NotImplementedError

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    async def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise NotImplementedError

    async def _insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise NotImplementedError


# json.dumps with arguments builds a new encoder on every call; every row with a
# JSON column (a job per inbound activity, to begin with) pays for one.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
