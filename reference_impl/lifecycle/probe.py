"""One health probe: a command run in the container (by the runtime's exec, passed in),
its exit code and output; -1 and Docker's words when it outlives the timeout or cannot start."""
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
    except BaseException:
        os.close(read_end)
        raise
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
            return -1, timed_out(timeout)
        data = os.read(read_end, 65536)
        if not data:
            break
        output += data
    os.close(read_end)
    code, failure = started.finish()
    if failure:  # dockerd records an exec that could not start as -1 and its error
        return -1, failure
    return code, output.decode("utf-8", "replace")


def timed_out(timeout: float) -> str:
    return f"Health check exceeded timeout ({timeout:g}s)"
