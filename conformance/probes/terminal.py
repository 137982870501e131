"""A scripted terminal: runs a command on a pseudo-terminal and types into it, waiting for
what the command prints between keystrokes (a check cannot sleep its way to the moment an
attached CLI has put the terminal in raw mode). Prints everything the command printed,
exits with its exit code (2 when a step or the exit did not come in time).

    python3 terminal.py [--size ROWSxCOLUMNS] [--expect TEXT | --send TEXT | --resize ROWSxCOLUMNS]...
                        -- COMMAND [ARG...]

TEXT takes Python escapes (\\x10 is ctrl-p). Steps run in order; --expect waits up to
--timeout seconds for TEXT to have appeared since the last --expect.
"""
from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect", action="append", dest="steps", type=lambda t: ("expect", t))
    parser.add_argument("--send", action="append", dest="steps", type=lambda t: ("send", t))
    parser.add_argument("--resize", action="append", dest="steps", type=lambda t: ("resize", t),
                        help="give the terminal this window size, ROWSxCOLUMNS (its command gets SIGWINCH)")
    parser.add_argument("--timeout", type=float, default=20)
    parser.add_argument("--size", help="the terminal's window size, ROWSxCOLUMNS (default: 0x0)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    pid, fd = pty.fork()
    if pid == 0:
        if args.size:
            _set_size(0, args.size)
        os.execvp(command[0], command)
    seen = bytearray()
    mark = 0
    for kind, text in args.steps or []:
        data = text.encode().decode("unicode_escape").encode("latin-1")
        if kind == "send":
            os.write(fd, data)
            continue
        if kind == "resize":
            _set_size(fd, text)
            continue
        deadline = time.monotonic() + args.timeout
        while data not in seen[mark:]:
            if not _read(fd, seen, deadline):
                sys.stdout.write(seen.decode(errors="replace"))
                print(f"\n[terminal: {text!r} did not come]")
                return 2
        mark = seen.index(data, mark) + len(data)
    deadline = time.monotonic() + args.timeout
    while _read(fd, seen, deadline):
        pass
    code = _exit_code(pid, deadline)
    sys.stdout.write(seen.decode(errors="replace"))
    return code


def _set_size(fd: int, size: str) -> None:
    rows, columns = (int(n) for n in size.split("x"))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def _read(fd: int, seen: bytearray, deadline: float) -> bool:
    """Append what the command prints; False at its end or the deadline."""
    left = deadline - time.monotonic()
    if left <= 0:
        return False
    ready, _, _ = select.select([fd], [], [], min(left, 0.2))
    if not ready:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the command and its terminal are gone
        return False
    seen += data
    return bool(data)


def _exit_code(pid: int, deadline: float) -> int:
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return 2


if __name__ == "__main__":
    sys.exit(main())
