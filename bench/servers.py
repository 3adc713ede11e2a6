"""Servers as real processes on loopback: a Kula node (``kula serve``) and
the bare aiohttp handler every inbox figure is compared with."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bench.report import log

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def kula(*args: str) -> list[str]:
    """The command line of ``kula ARGS`` in this interpreter."""
    return [sys.executable, "-m", "node.cli", *args]


async def init_node(
    data_dir: Path, port: int | None = None, *, url: str | None = None,
    name: str = "Bench community",
) -> str:
    """``kula init`` a node at ``url`` (default ``http://127.0.0.1:port``); returns the URL."""
    url = url or f"http://127.0.0.1:{port}"
    arguments = ["init", "--data", str(data_dir), "--url", url, "--name", name,
                 "--allow-private-network", "--registration", "open"]
    if port is not None:
        arguments += ["--port", str(port)]
    process = await asyncio.create_subprocess_exec(
        *kula(*arguments), cwd=ROOT, stdout=subprocess.DEVNULL
    )
    if await process.wait() != 0:
        raise RuntimeError(f"kula init failed for {data_dir}")
    return url


class ServerProcess:
    """A server in its own process, ready once ``health_path`` answers 200."""

    def __init__(self, command: list[str], port: int, log_path: Path, *,
                 health_path: str = "/healthz", env: dict[str, str] | None = None) -> None:
        self.command = command
        self.port = port
        self.log_path = log_path
        self.health_path = health_path
        self.env = {**os.environ, **(env or {})}
        self.process: asyncio.subprocess.Process | None = None
        #: Seconds from spawning the process to its first healthy answer.
        self.startup_seconds = 0.0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, time_limit: float = 120.0) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            # Started in the background (nohup, &), this process ignores SIGINT and
            # its children would inherit that; a handler here is reset for them.
            signal.signal(signal.SIGINT, signal.default_int_handler)
        with self.log_path.open("ab") as log_file:
            started = time.perf_counter()
            self.process = await asyncio.create_subprocess_exec(
                *self.command, cwd=ROOT, env=self.env, stdout=log_file, stderr=log_file,
                stdin=subprocess.DEVNULL,
            )
        url = f"http://127.0.0.1:{self.port}{self.health_path}"
        deadline = started + time_limit
        async with aiohttp.ClientSession() as session:
            while True:
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.command} exited; see {self.log_path}")
                try:
                    async with session.get(url) as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"{self.command} not ready in {time_limit} s")
                # Polling for readiness; the startup time is measured to the first answer.
                await asyncio.sleep(0.01)
        self.startup_seconds = time.perf_counter() - started
        return self

    def rss_bytes(self) -> int:
        """Resident memory of the process now, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def cpu_seconds(self) -> float:
        """User plus system CPU time the process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            log(f"{self.command[:4]} did not stop on SIGINT; killing it")
            self.process.kill()
            await self.process.wait()

    async def __aenter__(self) -> ServerProcess:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def node_server(
    data_dir: Path, port: int, *, workers: bool = False, profile_to: Path | None = None
) -> ServerProcess:
    """``kula serve`` on an initialised data directory (see :func:`init_node`).

    With ``profile_to``, the process runs under pyinstrument, which writes a
    text profile there when the server stops.
    """
    command = kula("serve", "--data", str(data_dir), "--port", str(port))
    if not workers:
        command.append("--no-workers")
    if profile_to is not None:
        command = [sys.executable, "-m", "pyinstrument", "-i", "0.0005", "-r", "text",
                   "-o", str(profile_to), *command[1:]]
    return ServerProcess(command, port, data_dir / "serve.log")


def bare_server(port: int, log_path: Path) -> ServerProcess:
    """The baseline: aiohttp parsing a JSON body and answering 202."""
    command = [sys.executable, "-m", "bench.bare_server", str(port)]
    return ServerProcess(command, port, log_path, health_path="/healthz")
