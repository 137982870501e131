"""exec -t: the command runs on a terminal of its own (a pty), as runc gives it one; its
output (stdout and stderr joined, with the terminal's CRLF line ends) is relayed to the
caller's stdout."""
from __future__ import annotations

import fcntl
import os
import termios


def take(slave: int) -> None:
    """In the exec'd process: the terminal as its controlling terminal and its stdio."""
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)


def relay(master: int, out: int) -> None:
    """Copy the terminal's output until its last writer closes it."""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not data:
            break
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(out, view):]
            except BrokenPipeError:
                break
    os.close(master)
