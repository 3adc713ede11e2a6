"""Structured logs: one JSON object per line, or plain text at a terminal."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO

from node.timeutil import second_text

_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """``time``, ``level``, ``logger``, ``message``, then whatever ``extra`` gave."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {
            key: value for key, value in vars(record).items()
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
        }
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return json_line(
            record.created, record.levelname, record.name, record.getMessage(), fields
        )


def json_line(
    created: float, level_name: str, logger_name: str, message: str, fields: Mapping[str, Any]
) -> str:
    """The line :class:`JsonFormatter` writes for a record with these attributes."""
    # Every request writes a line (the access log): the time is formatted
    # once per second.
    entry = {
        "time": _timestamp(created),
        "level": level_name.lower(),
        "logger": logger_name,
        "message": message,
        **fields,
    }
    return _ENCODER.encode(entry)


_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)


def direct_json_handler(logger: logging.Logger, level: int) -> BufferedStreamHandler | None:
    """The handler a record of ``logger`` at ``level`` would reach, when it is
    the only one, a :class:`BufferedStreamHandler` writing :class:`JsonFormatter`
    lines, and no filter would see the record on the way; otherwise None.

    For such a record, ``handler.emit_line(json_line(...))`` writes exactly
    the line that logging would, without a ``LogRecord``: in the running
    server, under the inbox load, the record and its trip through the logging
    module took 23 us of the event loop per request, the line alone about 8
    (the access log was a tenth of the inbox's CPU). Callers check
    ``logger.isEnabledFor(level)`` first. Anything set up differently (another
    handler, a filter, a test capturing records) gets the usual path.
    """
    if logger.filters:
        return None
    found: logging.Handler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if found is not None:
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    if (
        type(found) is BufferedStreamHandler
        and type(found.formatter) is JsonFormatter
        and not found.filters
        and level >= found.level
    ):
        return found
    return None


def _timestamp(created: float) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-11-23T14:02:03.456+00:00``."""
    # Rounded to microseconds first, as datetime.fromtimestamp does, then truncated.
    second, microseconds = divmod(round(created * 1_000_000), 1_000_000)
    return f"{second_text(second)}.{microseconds // 1000:03d}+00:00"


class BufferedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes lines in batches: at most :attr:`interval` seconds after they were
    logged, when :attr:`capacity` lines are waiting, or at once (after the
    waiting ones) for a warning or worse.

    A server logs a line per request; one write per line cost the inbox about a
    tenth of its CPU. nginx's ``access_log ... buffer= flush=`` makes the same
    trade: informational lines of the last moment are lost if the process is
    killed with SIGKILL, problems never wait.
    """

    def __init__(
        self, stream: TextIO, *, interval: float = 1.0, capacity: int = 512
    ) -> None:
        super().__init__(stream)
        self.interval = interval
        self.capacity = capacity
        self._waiting: list[str] = []
        # Not "_closed": logging.Handler.close() sets that name to True.
        self._stopping = threading.Event()
        self._flusher = threading.Thread(target=self._flush_now_and_then, daemon=True,
                                         name="log-flusher")
        self._flusher.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._queue(self.format(record), urgent=record.levelno >= logging.WARNING)
        except Exception:
            self.handleError(record)

    def emit_line(self, line: str) -> None:
        """Queue a line already formatted (see :func:`direct_json_handler`) at INFO."""
        self.acquire()
        try:
            self._queue(line, urgent=False)
        except Exception:
            self.handleError(logging.makeLogRecord({"msg": line}))
        finally:
            self.release()

    def _queue(self, line: str, *, urgent: bool) -> None:
        # Called with the handler's lock held.
        self._waiting.append(line + self.terminator)
        if urgent or len(self._waiting) >= self.capacity:
            self._write_waiting()

    def flush(self) -> None:
        self.acquire()
        try:
            self._write_waiting()
        finally:
            self.release()

    def close(self) -> None:
        self._stopping.set()
        self.flush()
        super().close()

    def _write_waiting(self) -> None:
        # Called with the handler's lock held.
        if self._waiting:
            text = "".join(self._waiting)
            self._waiting.clear()
            self.stream.write(text)
        self.stream.flush()

    def _flush_now_and_then(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.flush()
            except (OSError, ValueError):  # the stream went away; the next emit reports it
                pass


def configure_logging(level: str = "INFO", fmt: str = "json", *, buffered: bool = False) -> None:
    """Log to standard error. ``buffered`` (for the long-running ``serve`` and
    ``worker``) writes lines in batches, see :class:`BufferedStreamHandler`."""
    handler: logging.StreamHandler = (  # type: ignore[type-arg]
        BufferedStreamHandler(sys.stderr) if buffered else logging.StreamHandler(sys.stderr)
    )
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
