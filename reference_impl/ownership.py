"""Which process owns a scratch entry, and whether it still lives.

A token is ``<pid>-<start time>``: the start time (field 22 of /proc/<pid>/stat) tells
a reused pid apart from the process that made the entry.
"""
from __future__ import annotations

import os


def process_start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def process_alive(pid: int) -> bool:
    """A process with that pid exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def holder_alive(pid: int, start: str | None) -> bool:
    """The process that took something (pid and its start time then) still lives: not a
    reused pid, not a zombie (a killed holder whose parent has not reaped it yet)."""
    return process_start_time(pid) == start and process_alive(pid)


def owner_token(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{pid}-{process_start_time(pid)}"


def owner_alive(token: str) -> bool:
    pid, _, started = token.partition("-")
    if not pid.isdigit():
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] != "Z" and fields[19] == started


def owner_of(name: str) -> str:
    return name.split(".", 1)[0]


def staging_prefix(kind: str) -> str:
    """A name prefix for a staging entry of this process (`kind` says what it is)."""
    return f"{owner_token()}.{kind}"
