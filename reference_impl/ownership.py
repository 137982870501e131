"""Which process owns a scratch entry, and whether it still lives.

A token is ``<pid>-<start time>``: the start time (field 22 of /proc/<pid>/stat) tells
a reused pid apart from the process that made the entry.
"""
from __future__ import annotations

import os


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name (field 3 on), or None when there is no such process."""
    if pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields if len(fields) > 19 else None


def process_start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat, or None when there is no such process."""
    fields = _stat_fields(pid)
    return fields[19] if fields else None


def process_alive(pid: int) -> bool:
    """A process with that pid exists and is not a zombie."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def holder_alive(pid: int, start: str | None) -> bool:
    """The process that took something (pid and its start time then) still lives: not a
    reused pid, not a zombie (a killed holder whose parent has not reaped it yet)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z" and fields[19] == start


def owner_token(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{pid}-{process_start_time(pid)}"


def owner_alive(token: str) -> bool:
    pid, _, started = token.partition("-")
    return pid.isdigit() and holder_alive(int(pid), started)


def owner_of(name: str) -> str:
    return name.split(".", 1)[0]


def staging_prefix(kind: str) -> str:
    """A name prefix for a staging entry of this process (`kind` says what it is)."""
    return f"{owner_token()}.{kind}"
