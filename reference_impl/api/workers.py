"""Starting `python -m reference_impl.api.worker` from the service, and reading its reports."""
from __future__ import annotations

import asyncio
import json
import os
import sys


class Worker:
    def __init__(self, process: asyncio.subprocess.Process, reports: asyncio.StreamReader, transport):
        self.process, self.reports, self.transport = process, reports, transport

    async def next_report(self) -> dict | None:
        """The next JSON report line; None once the worker has closed the channel."""
        line = await self.reports.readline()
        if not line:
            return None
        return json.loads(line)

    def close(self) -> None:
        """Stop reading reports (a detached container's shim keeps the channel open)."""
        self.transport.close()

    def terminate(self) -> None:
        if self.process.returncode is None:
            try:
                self.process.terminate()
            except ProcessLookupError:
                pass


async def _reader(fd: int):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                                os.fdopen(fd, "rb", 0))
    return reader, transport


async def spawn(op: str, spec: dict, stdin: int | None = None, stdout: int | None = None,
                stderr: int | None = None, pass_fds: tuple[int, ...] = ()) -> Worker:
    """Start a worker; stdin/stdout/stderr are fds handed over (None: /dev/null, stderr: ours),
    pass_fds more of them (named in spec)."""
    report_r, report_w = os.pipe()
    spec = {**spec, "report_fd": report_w}
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "reference_impl.api.worker", op, json.dumps(spec),
            stdin=stdin if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=stdout if stdout is not None else asyncio.subprocess.DEVNULL,
            stderr=stderr, pass_fds=(report_w, *pass_fds), close_fds=True, start_new_session=True)
    except BaseException:
        os.close(report_r)
        raise
    finally:
        os.close(report_w)
    return Worker(process, *await _reader(report_r))
