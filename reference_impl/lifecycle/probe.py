"""One health probe: a command run in the container (by the runtime's exec, passed in),
its exit code and output; -1 and Docker's words when it outlives the timeout."""
from __future__ import annotations

import os
import select
import signal
import time


def run(exec_in, argv: list[str], timeout: float) -> tuple[int, str]:
    """exec_in(argv) runs argv in the container on this process's stdio and returns its code."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        code = 126
        try:
            os.close(read_end)
            devnull = os.open("/dev/null", os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(write_end, 1)
            os.dup2(write_end, 2)
            code = exec_in(argv)
        finally:
            os._exit(code)
    os.close(write_end)
    output, deadline = b"", time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([read_end], [], [], max(left, 0))
        if not ready:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            os.close(read_end)
            return -1, f"Health check exceeded timeout ({_seconds(timeout)})"
        data = os.read(read_end, 65536)
        if not data:
            break
        output += data
    os.close(read_end)
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    return code, output.decode("utf-8", "replace")


def _seconds(value: float) -> str:
    return f"{value:g}s"
