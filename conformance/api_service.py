"""An Engine API service the suite starts for a run (strata's or podman's `system service`),
driven through the real docker CLI with DOCKER_HOST pointing at its socket.

The service of a run lives in /tmp/<run>-<name>/ (socket, pid file, log): started once,
under a FileLock, by whichever of the controller and the xdist workers prepares the
run first; stopped by the controller after the engine leak check, so anything left
of it afterwards (the process, the directory) is a host leak the check reports.
A service that outlives its session by accident exits by itself once idle.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from filelock import FileLock

IDLE_EXIT = 600  # seconds without a request before an orphaned service goes away


def socket_answers(sock: Path, timeout: float = 5.0) -> str | None:
    """None when GET /_ping on the socket answers 200; otherwise why not."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(sock))
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: api\r\n\r\n")
            head = s.recv(64)
    except OSError as exc:
        return f"nothing answers on {sock}: {exc.strerror or exc}"
    if not head.startswith(b"HTTP/1.") or b" 200 " not in head[:16]:
        return f"{sock} answers, but not /_ping: {head[:40]!r}"
    return None


def strata_serve(sock: Path) -> list[str]:
    """strata's words for serving the API on `sock` (exits after IDLE_EXIT idle seconds)."""
    return ["system", "service", "--socket", str(sock), "--time", str(IDLE_EXIT)]


def podman_serve(sock: Path) -> list[str]:
    """podman's words for serving its Docker-compatible API on `sock`."""
    return ["system", "service", "--time", str(IDLE_EXIT), f"unix://{sock}"]


def start(argv: tuple[str, ...], directory: Path, env: dict[str, str] | None = None,
          timeout: float = 60, serve=strata_serve) -> Path:
    """The socket of the service in `directory`, started unless it already answers
    (`serve(socket)`: the service's arguments after `argv`)."""
    directory.mkdir(parents=True, exist_ok=True)
    sock = directory / "api.sock"
    with FileLock(str(directory / "start.lock")):
        if socket_answers(sock) is None:
            return sock
        with open(directory / "service.log", "ab") as log:
            proc = subprocess.Popen(
                [*argv, *serve(sock)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env={**os.environ, **(env or {})},
                start_new_session=True)
        (directory / "service.pid").write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while (reason := socket_answers(sock, timeout=2)) is not None:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                tail = (directory / "service.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the API service did not start ({reason}):\n{tail}")
            time.sleep(0.05)
    return sock


def _gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it, when it is our child
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


def _is_service(pid: int, directory: Path) -> bool:
    """The pid is still the service of `directory` (not a process that got its number)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return str(directory / "api.sock").encode() in f.read()
    except OSError:
        return False


def stop(directory: Path, timeout: float = 20) -> None:
    """Stop the service of `directory` (SIGTERM, then SIGKILL) and remove the directory."""
    try:
        pid = int((directory / "service.pid").read_text())
    except (FileNotFoundError, ValueError):
        pid = 0
    if pid and not _gone(pid) and _is_service(pid, directory):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while not _gone(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + timeout
            time.sleep(0.05)
    shutil.rmtree(directory, ignore_errors=True)
