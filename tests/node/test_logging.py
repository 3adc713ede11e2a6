"""The JSON log lines operators ship to their log stores."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from datetime import UTC, datetime

from node.logsetup import BufferedStreamHandler, JsonFormatter


def emitted(record: logging.LogRecord) -> dict[str, object]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.handle(record)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_a_line_carries_time_level_logger_message_and_extras() -> None:
    record = logging.makeLogRecord({
        "name": "kula.access", "levelno": logging.INFO, "levelname": "INFO",
        "msg": "%s %s %s", "args": ("POST", "/inbox", 202),
        "created": 1795447323.4567, "method": "POST", "status": 202, "duration_ms": 1.25,
    })
    line = emitted(record)
    assert line == {
        "time": "2026-11-23T15:22:03.456+00:00", "level": "info", "logger": "kula.access",
        "message": "POST /inbox 202", "method": "POST", "status": 202, "duration_ms": 1.25,
    }
    assert datetime.fromisoformat(str(line["time"])).timestamp() == 1795447323.456


def test_times_in_the_same_second_and_the_next() -> None:
    times = [emitted(logging.makeLogRecord({"msg": "x", "created": created}))["time"]
             for created in (1795447323.0, 1795447323.9999, 1795447324.001)]
    assert times == ["2026-11-23T15:22:03.000+00:00", "2026-11-23T15:22:03.999+00:00",
                     "2026-11-23T15:22:04.001+00:00"]
    # The same text datetime writes.
    assert times == [datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
                     for created in (1795447323.0, 1795447323.9999, 1795447324.001)]


def test_an_exception_is_written_with_its_traceback() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.getLogger("kula.test").makeRecord(
            "kula.test", logging.ERROR, __file__, 1, "failed", (), exc_info=sys.exc_info()
        )
    line = emitted(record)
    assert line["level"] == "error" and line["message"] == "failed"
    assert "ValueError: broken" in str(line["exception"])


def info(message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.makeLogRecord({"msg": message, "levelno": level,
                                  "levelname": logging.getLevelName(level)})


class Recorder(io.StringIO):
    """A stream that signals each write, so a test can wait for the flusher."""

    def __init__(self) -> None:
        super().__init__()
        self.written = threading.Event()

    def write(self, text: str) -> int:
        count = super().write(text)
        self.written.set()
        return count


def test_buffered_lines_wait_until_a_warning_and_keep_their_order() -> None:
    stream = Recorder()
    handler = BufferedStreamHandler(stream, interval=3600)
    try:
        handler.handle(info("first"))
        handler.handle(info("second"))
        assert stream.getvalue() == ""
        handler.handle(info("trouble", logging.WARNING))
        assert stream.getvalue().splitlines() == ["first", "second", "trouble"]
    finally:
        handler.close()


def test_buffered_lines_are_written_when_full_and_on_close() -> None:
    stream = Recorder()
    handler = BufferedStreamHandler(stream, interval=3600, capacity=3)
    handler.handle(info("1"))
    handler.handle(info("2"))
    assert stream.getvalue() == ""
    handler.handle(info("3"))
    assert stream.getvalue().splitlines() == ["1", "2", "3"]
    handler.handle(info("4"))
    handler.close()
    assert stream.getvalue().splitlines() == ["1", "2", "3", "4"]
    handler.close()  # again, as logging.shutdown() does at exit for a closed handler


def test_buffered_lines_are_written_within_the_interval() -> None:
    stream = Recorder()
    handler = BufferedStreamHandler(stream, interval=0.05)
    try:
        handler.handle(info("quiet moment"))
        assert stream.written.wait(timeout=10)
        assert stream.getvalue() == "quiet moment\n"
    finally:
        handler.close()
