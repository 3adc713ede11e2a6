"""Progress of long operator commands (backup, restore, copies, reindexing).

A :class:`ProgressMeter` turns "done out of total" counts into reports with a
rate and the time left; a sink shows them: one self-overwriting line on a
terminal, or log lines (at most one per interval, plus the last) when the
output goes to a file or a journal. :func:`run_interruptible` runs blocking
work in a thread so that an interrupted command waits for that work to stop
cleanly before it cleans up, instead of deleting files under a running thread.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO, TypeVar

from node.errors import NodeError
from node.logsetup import configure_logging

logger = logging.getLogger("kula.progress")

T = TypeVar("T")
Clock = Callable[[], float]


@dataclass(frozen=True)
class ProgressUpdate:
    """Where an operation stands."""

    task: str
    done: int
    #: Expected total; 0 when unknown.
    total: int
    unit: str
    per_second: float
    #: Estimated seconds to finish; None when the total or the rate is unknown.
    seconds_left: float | None

    @property
    def finished(self) -> bool:
        return 0 < self.total <= self.done


ProgressSink = Callable[[ProgressUpdate], None]


def format_duration(seconds: float | None) -> str:
    """``1h02m03s``, ``4m05s``, or ``?`` when unknown."""
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def describe(update: ProgressUpdate) -> str:
    """One human line: ``backup: 512/2048 pages (25%), 900 pages/s, 0m02s left``."""
    if update.total > 0:
        percent = min(100, 100 * update.done // update.total)
        counted = f"{update.done}/{update.total} {update.unit} ({percent}%)"
    else:
        counted = f"{update.done} {update.unit}"
    return (
        f"{update.task}: {counted}, {update.per_second:.0f} {update.unit}/s,"
        f" {format_duration(update.seconds_left)} left"
    )


class ProgressMeter:
    """Callable as ``meter(done, total)``; measures the rate since it was made."""

    def __init__(
        self, task: str, unit: str, sink: ProgressSink, *, clock: Clock = time.monotonic
    ) -> None:
        self.task, self.unit, self.sink, self.clock = task, unit, sink, clock
        # The rate counts from the meter's creation: a one-step operation still has one.
        self._started = clock()

    def __call__(self, done: int, total: int) -> None:
        elapsed = self.clock() - self._started
        rate = done / elapsed if elapsed > 0 else 0.0
        left: float | None = None
        if total > 0 and rate > 0:
            left = max(total - done, 0) / rate
        elif 0 < total <= done:
            left = 0.0
        self.sink(ProgressUpdate(self.task, done, max(total, 0), self.unit, rate, left))


def terminal_sink(stream: TextIO) -> ProgressSink:
    """Rewrite one line in place; end it when the operation finishes."""

    def show(update: ProgressUpdate) -> None:
        stream.write(f"\r\x1b[K{describe(update)}" + ("\n" if update.finished else ""))
        stream.flush()

    return show


def log_sink(
    log: logging.Logger = logger, *, interval: float = 10.0, clock: Clock = time.monotonic
) -> ProgressSink:
    """Log the first update, then at most one per ``interval`` seconds, and the last."""
    last_logged: list[float] = []

    def show(update: ProgressUpdate) -> None:
        now = clock()
        if last_logged and not update.finished and now - last_logged[0] < interval:
            return
        last_logged[:] = [now]
        log.info(
            describe(update),
            extra={
                "task": update.task, "done": update.done, "total": update.total,
                "unit": update.unit, "per_second": round(update.per_second, 1),
                "seconds_left": None if update.seconds_left is None
                else round(update.seconds_left, 1),
            },
        )

    return show


def command_line_sink(stream: TextIO, log_format: str = "json") -> ProgressSink:
    """For a command: a terminal line when ``stream`` is a terminal, log lines otherwise.

    Logging is set up only when nothing has set it up yet; the progress logger
    is opened to INFO either way, so a quieter node log level does not hide it.
    """
    if stream.isatty():
        return terminal_sink(stream)
    if not logging.getLogger().handlers:
        configure_logging("INFO", log_format)
    logger.setLevel(logging.INFO)
    return log_sink(logger)


@contextmanager
def cancel_on_sigterm() -> Iterator[None]:
    """Let ``systemctl stop`` or ``docker stop`` (SIGTERM) interrupt the current
    task the way Ctrl-C does, so the same clean-up runs."""
    task = asyncio.current_task()
    if task is None or threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


class Interrupted(NodeError):
    """Raised inside interruptible work once its caller has been cancelled."""

    type_slug = "interrupted"
    title = "Interrupted"


class StopSignal:
    """A flag the blocking work polls between steps (pages, files, members)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def check(self) -> None:
        """Raise :class:`Interrupted` when the operation has been cancelled."""
        if self._event.is_set():
            raise Interrupted("the operation was interrupted")


async def run_interruptible(work: Callable[[StopSignal], T]) -> T:
    """Run ``work(stop)`` in a thread; on cancellation, ask it to stop and wait.

    The caller's cleanup (``finally`` blocks, temporary directories) then runs
    only after the thread has let go of its files, so nothing is half-deleted
    while still being written. Work that was already past its last
    ``stop.check()`` (an atomic swap, a final rename) finishes, and then its
    result is returned as if no cancellation had come: what happened is what
    the caller reports.
    """
    stop = StopSignal()
    future = asyncio.ensure_future(asyncio.to_thread(work, stop))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        stop.set()
        # Ctrl-C again must not skip the wait: the thread would outlive the cleanup.
        while not future.done():
            try:
                await asyncio.wait({future})
            except asyncio.CancelledError:
                continue
        if future.exception() is not None:
            raise
        task = asyncio.current_task()
        while task is not None and task.uncancel() > 0:
            pass
        return future.result()
