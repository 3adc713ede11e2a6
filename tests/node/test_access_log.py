"""The access log line every request writes: its fields and their order, and
no line when the logger or its handler is off for INFO; and the security
headers every answer carries."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import cast

import pytest
from aiohttp import web

from node.logsetup import BufferedStreamHandler, JsonFormatter, direct_json_handler
from node.web.middleware import CONTENT_SECURITY_POLICY, add_security_headers, log_access


class Keeper(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def access_log() -> Iterator[tuple[logging.Logger, Keeper]]:
    logger = logging.getLogger("kula.access")
    keeper = Keeper()
    saved = logger.level, logger.propagate, logger.disabled
    logger.addHandler(keeper)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.disabled = False
    try:
        yield logger, keeper
    finally:
        logger.removeHandler(keeper)
        logger.level, logger.propagate, logger.disabled = saved


_REQUEST = cast(web.Request, SimpleNamespace(
    method="POST", path="/users/alice/inbox", remote="192.0.2.7",
))
_CLOCK = ("created", "msecs", "relativeCreated")


@pytest.mark.spec("Kula operations: access log")
def test_the_access_line_carries_its_fields_in_order(
    access_log: tuple[logging.Logger, Keeper],
) -> None:
    _, keeper = access_log
    log_access(_REQUEST, 202, 0.0012345)
    [record] = keeper.records
    line = json.loads(JsonFormatter().format(record))
    assert list(line) == [
        "time", "level", "logger", "message", "method", "path", "status", "duration_ms", "remote",
    ]
    assert {key: value for key, value in line.items() if key != "time"} == {
        "level": "info", "logger": "kula.access", "message": "POST /users/alice/inbox 202",
        "method": "POST", "path": "/users/alice/inbox", "status": 202, "duration_ms": 1.23,
        "remote": "192.0.2.7",
    }
    text = logging.Formatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert text == "INFO kula.access: POST /users/alice/inbox 202"


@pytest.mark.spec("Kula operations: access log")
def test_no_access_line_when_the_logger_is_off_for_info(
    access_log: tuple[logging.Logger, Keeper],
) -> None:
    logger, keeper = access_log
    logger.setLevel(logging.WARNING)
    log_access(_REQUEST, 202, 0.001)
    logger.setLevel(logging.INFO)
    logger.disabled = True
    log_access(_REQUEST, 202, 0.001)
    assert keeper.records == []


@pytest.mark.spec("Kula operations: access log")
def test_a_handler_level_still_filters_the_access_line(
    access_log: tuple[logging.Logger, Keeper],
) -> None:
    _, keeper = access_log
    keeper.setLevel(logging.WARNING)
    log_access(_REQUEST, 202, 0.001)
    assert keeper.records == []


# --- Security headers --------------------------------------------------------------------


def test_security_headers_are_added_without_replacing_a_handlers_own() -> None:
    response = web.Response(headers={"referrer-policy": "no-referrer"})
    add_security_headers(response)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers.getall("Referrer-Policy") == ["no-referrer"]
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert [name for name in response.headers if name.lower() != "content-type"] == [
        "referrer-policy", "X-Content-Type-Options", "Content-Security-Policy",
    ]


# --- The direct line: the same text without a LogRecord ------------------------------------


@pytest.fixture
def buffered_access_log() -> Iterator[tuple[logging.Logger, BufferedStreamHandler, io.StringIO]]:
    """``kula.access`` writing JSON lines through a buffered handler of its own,
    as ``kula serve`` sets up the root logger."""
    logger = logging.getLogger("kula.access")
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream, interval=60)
    handler.setFormatter(JsonFormatter())
    saved = logger.level, logger.propagate, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.disabled = False
    try:
        yield logger, handler, stream
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.level, logger.propagate, logger.disabled = saved


def _without_pytests_handlers(logger: logging.Logger, handler: logging.Handler) -> None:
    # pytest adds its capturing handlers to loggers that do not propagate,
    # after fixtures ran; with them the record rightly goes through logging.
    for other in [each for each in logger.handlers if each is not handler]:
        logger.removeHandler(other)


_AWKWARD = cast(web.Request, SimpleNamespace(
    method="GET", path='/search/"caf\u00e9"\\\u0001\u2028\U0001f600', remote=None,
))


@pytest.mark.spec("Kula operations: access log")
@pytest.mark.parametrize("request_", [_REQUEST, _AWKWARD], ids=["plain", "awkward"])
def test_the_direct_line_is_the_line_logging_writes(
    buffered_access_log: tuple[logging.Logger, BufferedStreamHandler, io.StringIO],
    request_: web.Request,
) -> None:
    logger, handler, stream = buffered_access_log
    _without_pytests_handlers(logger, handler)
    assert direct_json_handler(logger, logging.INFO) is handler
    log_access(request_, 404, 0.0456789)
    keeper = Keeper()
    logger.addHandler(keeper)  # a second handler: the record goes through logging
    try:
        assert direct_json_handler(logger, logging.INFO) is None
        log_access(request_, 404, 0.0456789)
    finally:
        logger.removeHandler(keeper)
    handler.flush()
    direct, through_logging = stream.getvalue().removesuffix("\n").split("\n")
    assert json.loads(direct)["time"] <= json.loads(through_logging)["time"]
    # Identical text once the two moments are set equal.
    stamp = json.loads(through_logging)["time"]
    assert direct.replace(json.loads(direct)["time"], stamp) == through_logging
    assert JsonFormatter().format(keeper.records[0]) == through_logging


def test_only_a_lone_unfiltered_json_handler_gets_lines_directly(
    buffered_access_log: tuple[logging.Logger, BufferedStreamHandler, io.StringIO],
) -> None:
    logger, handler, _ = buffered_access_log
    _without_pytests_handlers(logger, handler)
    assert direct_json_handler(logger, logging.INFO) is handler

    handler.setLevel(logging.WARNING)
    assert direct_json_handler(logger, logging.INFO) is None
    assert direct_json_handler(logger, logging.WARNING) is handler
    handler.setLevel(logging.NOTSET)

    for owner in (logger, handler):
        refuse_all = logging.Filter("nothing.matches")
        owner.addFilter(refuse_all)
        assert direct_json_handler(logger, logging.INFO) is None
        owner.removeFilter(refuse_all)

    handler.setFormatter(logging.Formatter("%(message)s"))
    assert direct_json_handler(logger, logging.INFO) is None
    handler.setFormatter(JsonFormatter())

    # Propagating to a parent that has a handler too: two handlers.
    logger.propagate = True
    parent_handler = logging.NullHandler()
    logging.getLogger().addHandler(parent_handler)
    try:
        assert direct_json_handler(logger, logging.INFO) is None
    finally:
        logging.getLogger().removeHandler(parent_handler)
        logger.propagate = False
    assert direct_json_handler(logger, logging.INFO) is handler
