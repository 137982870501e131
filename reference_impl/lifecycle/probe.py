"""One health probe: a command run in the container (by the runtime's exec, passed in),
its exit code and output; -1 and Docker's words when it outlives the timeout."""
from __future__ import annotations

import os
import select
import time


def run(start, timeout: float) -> tuple[int, str]:
    """start(stdio) starts the command in the container on those fds (the runtime's
    start_exec) and returns it started; no process of this one's stands between."""
    read_end, write_end = os.pipe()
    devnull = os.open("/dev/null", os.O_RDONLY)
    try:
        started = start((devnull, write_end, write_end))
    finally:
        os.close(devnull)
        os.close(write_end)
    output, deadline = b"", time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([read_end], [], [], max(left, 0))
        if not ready:
            started.abandon()
            os.close(read_end)
            return -1, f"Health check exceeded timeout ({_seconds(timeout)})"
        data = os.read(read_end, 65536)
        if not data:
            break
        output += data
    os.close(read_end)
    code, failure = started.finish()
    return code, output.decode("utf-8", "replace") + (failure + "\n" if failure else "")


def _seconds(value: float) -> str:
    return f"{value:g}s"
