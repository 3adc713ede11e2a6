"""A ``kula serve`` process whose disk can be made to fail, and given back.

The fault is the kernel's own: ``RLIMIT_FSIZE`` set on the running process
(``prlimit``) makes every write of it to a regular file past the limit fail
with ``EFBIG``, which SQLite reports as a disk I/O error, as it would a dying
or full disk. No privilege, mount or special file system is needed, and
raising the limit again is "space returns". The node's log goes through a
pipe, which no file-size limit touches, so its lines are kept meanwhile.
"""

from __future__ import annotations

import asyncio
import resource
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.federation.procs import KULA, KulaProcess, ServedNode, _die_with_parent


async def _copy_lines(stream: asyncio.StreamReader, path: Path) -> None:
    with path.open("ab") as log:
        while line := await stream.readline():
            log.write(line)
            log.flush()


@dataclass
class PipedLogProcess(KulaProcess):
    """A :class:`KulaProcess` whose standard error is copied to its log by this process."""

    _copier: asyncio.Task[None] | None = None

    async def spawn(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            KULA, *self.args, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
        assert self.process.stderr is not None
        self._copier = asyncio.create_task(_copy_lines(self.process.stderr, self.log_path))

    async def kill(self) -> None:
        await super().kill()
        if self._copier is not None:
            await self._copier  # ends at the dead process's end of file
            self._copier = None


@dataclass
class FailingDiskNode(ServedNode):
    """A served node whose file writes can be made to fail (see the module doc)."""

    limited: bool = field(default=False)

    async def serve(self, *, workers: bool = True) -> None:
        args = ["serve", "--data", str(self.data_dir), "--port", str(self.port)]
        if not workers:
            args.append("--no-workers")
        self.server = PipedLogProcess(
            tuple(args), self.root / f"{self.name}.log", "Kula is serving"
        )
        await self.server.start()
        if self.session is None:
            self.session = aiohttp.ClientSession(base_url=self.url)

    @property
    def pid(self) -> int:
        assert self.server is not None and self.server.process is not None
        return self.server.process.pid

    def fill_disk(self) -> None:
        """From now on every write the node makes to a file fails: with a
        limit of 0 not one byte fits, whatever room the files already had."""
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
        self.limited = True

    def free_disk(self) -> None:
        """Give the node its space back."""
        unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, unlimited)
        self.limited = False
