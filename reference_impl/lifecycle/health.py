"""Health checks: a monitor process, forked by the shim while the container runs, runs the
probe in the container every interval and keeps State.Health in health.json beside the
container's state (a file of its own: the shim writes state.json at the same time).

starting -> healthy on the first success; -> unhealthy after `retries` failures in a row
(failures in the start period do not count); the last five probes are kept.

As dockerd, which stops a container's monitor on pause and on exit "for compatibility
reasons": a paused or stopped container is unhealthy, no probe runs while paused, and each
run of the process starts again from starting with the log kept. The file is the one state:
the monitor, `pause` and the shim each change it under a lock, the monitor discarding a
result that comes back once the container is paused.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from pathlib import Path

from reference_impl import humanize
from reference_impl.lifecycle import pause

FILE = "health.json"
LOCK = ".health.lock"
DEFAULT_INTERVAL = DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
KEPT = 5
MAX_OUTPUT = 4096


def enabled(check) -> bool:
    return bool(check.test) and check.test[0] != "NONE"


def probe_argv(test: list[str]) -> list[str]:
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", test[1] if len(test) > 1 else ""]
    return list(test[1:])


def reset(container_dir: Path, check) -> None:
    """A new start: no health without a check; else starting, the log kept (dockerd's
    initHealthMonitor)."""
    path = Path(container_dir) / FILE
    if check is None or not enabled(check):
        path.unlink(missing_ok=True)
        return
    with _locked(container_dir):
        kept = read(container_dir) or {}
        _write(path, {"Status": "starting", "FailingStreak": 0, "Log": kept.get("Log") or []})


def mark_unhealthy(container_dir: Path) -> None:
    """The monitor stopped (pause, exit): unhealthy, the rest kept."""
    if not (Path(container_dir) / FILE).exists():  # no health check
        return
    try:
        with _locked(container_dir):
            report = read(container_dir)
            if report is not None:
                _write(Path(container_dir) / FILE, {**report, "Status": "unhealthy"})
    except FileNotFoundError:  # removed meanwhile
        pass


def read(container_dir: Path) -> dict | None:
    try:
        return json.loads((Path(container_dir) / FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None


@contextlib.contextmanager
def _locked(container_dir: Path):
    with open(Path(container_dir) / LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _write(path: Path, report: dict) -> None:
    partial = path.with_name(f".{FILE}.{os.getpid()}")
    partial.write_text(json.dumps(report))
    os.replace(partial, path)


def start_monitor(container_dir: Path, check, pid: int, exec_probe) -> int:
    """Fork the monitor; its pid (the shim kills it when the process exits)."""
    monitor = os.fork()
    if monitor:
        return monitor
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _monitor(Path(container_dir), check, pid, exec_probe)
    finally:
        os._exit(0)


def _monitor(container_dir: Path, check, pid: int, exec_probe) -> None:
    interval = check.interval / 1e9 if check.interval else DEFAULT_INTERVAL
    timeout = check.timeout / 1e9 if check.timeout else DEFAULT_TIMEOUT
    retries = check.retries or DEFAULT_RETRIES
    grace_until = time.monotonic() + check.start_period / 1e9
    argv = probe_argv(check.test)
    container_id = container_dir.name
    while True:
        time.sleep(interval)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if pause.is_paused(container_id):
            continue
        start = humanize.now_rfc3339()
        code, output = exec_probe(argv, timeout)
        entry = {"Start": start, "End": humanize.now_rfc3339(), "ExitCode": code,
                 "Output": output[:MAX_OUTPUT]}
        with _locked(container_dir):
            report = read(container_dir)
            if report is None or pause.is_paused(container_id):  # removed, or paused meanwhile
                continue
            _record(report, entry, code == 0, retries, in_grace=time.monotonic() < grace_until)
            _write(container_dir / FILE, report)


def _record(report: dict, entry: dict, passed: bool, retries: int, in_grace: bool) -> None:
    """dockerd's handleProbeResult."""
    report["Log"] = (report["Log"] + [entry])[-KEPT:]
    if passed:
        report["Status"], report["FailingStreak"] = "healthy", 0
    elif not in_grace or report["Status"] != "starting":
        report["FailingStreak"] += 1
        if report["FailingStreak"] >= retries:
            report["Status"] = "unhealthy"
