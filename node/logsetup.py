"""Structured logs: one JSON object per line, or plain text at a terminal."""

from __future__ import annotations

import json
import logging
import sys
import time

_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """``time``, ``level``, ``logger``, ``message``, then whatever ``extra`` gave."""

    def format(self, record: logging.LogRecord) -> str:
        # Every request writes a line (the access log): the time is formatted
        # once per second.
        entry = {
            "time": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


_last_second: tuple[int, str] = (-1, "")


def _timestamp(created: float) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-11-23T14:02:03.456+00:00``."""
    global _last_second
    # Rounded to microseconds first, as datetime.fromtimestamp does, then truncated.
    second, microseconds = divmod(round(created * 1_000_000), 1_000_000)
    if _last_second[0] != second:
        _last_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{_last_second[1]}.{microseconds // 1000:03d}+00:00"


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Neither format writes the thread, process or calling function, so the
    # logging module need not look them up for every record (the logging
    # HOWTO's "Optimization" section names these switches).
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None
