"""A launcher of health probes: one process, forked by the health monitor at its first probe,
that takes the container's place once and then starts every probe of this run of the
container (issue 20: a probe's CPU time).

Forking the monitor (≈ 20 MB of Python) for each probe and confining each child costs
20–80 ms of CPU a probe on a small VM. The launcher pays the joining and the confining once
(`setup`, given by the runtime) and starts each probe with a vfork and an exec: no page
tables are copied. The monitor asks over a pipe, a JSON line per probe, and reads
the answer ({"code", "output"}) from another.

The launcher dies with the monitor (a parent-death signal; the shim kills the monitor when
the container's process exits) and ends when its request pipe closes."""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable

from reference_impl.lifecycle import probe, signals
from reference_impl import syscalls as sc

_PR_SET_PDEATHSIG = 1
_GRACE = 2.0  # beyond the probe's timeout, for the launcher's own answer

Start = Callable[[list[str], tuple[int, int, int]], subprocess.Popen]  # (argv, stdio) -> the probe


class Launcher:
    def __init__(self, setup: Callable[[], Start], explain: Callable[[BaseException], str]):
        """setup(): run in the launcher, joins and confines it, returns how to start a probe;
        explain(exc): the words of a probe that could not start."""
        self.setup, self.explain = setup, explain
        self.pid = 0
        self.discarded: list[int] = []  # killed while frozen: they end when thawed

    def run(self, argv: list[str], timeout: float) -> tuple[int, str]:
        """One probe: its exit code and output (-1 and Docker's words past the timeout)."""
        if not self.pid:
            self._reap_discarded()
            self._fork()
        try:
            os.write(self.requests, json.dumps({"argv": argv, "timeout": timeout}).encode() + b"\n")
            answer = self._answer(timeout + _GRACE)
        except OSError:  # the launcher is gone
            answer = None
        if answer is None:  # frozen with the container (pause), or gone: the next probe gets another
            self._discard()
            return -1, probe.timed_out(timeout)
        return answer["code"], answer["output"]

    def _fork(self) -> None:
        requests_r, self.requests = os.pipe()
        self.answers, answers_w = os.pipe()
        monitor = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(self.requests)
                os.close(self.answers)
                _serve(requests_r, answers_w, monitor, self.setup, self.explain)
            finally:
                os._exit(0)
        os.close(requests_r)
        os.close(answers_w)
        self.pid, self.pending = pid, b""

    def _answer(self, within: float) -> dict | None:
        deadline = time.monotonic() + within
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.answers], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                return None
            data = os.read(self.answers, 65536)
            if not data:
                return None
            self.pending += data
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def _discard(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.discarded.append(self.pid)
        os.close(self.requests)
        os.close(self.answers)
        self.pid = 0
        self._reap_discarded()

    def _reap_discarded(self) -> None:
        for pid in list(self.discarded):
            if os.waitpid(pid, os.WNOHANG)[0]:
                self.discarded.remove(pid)


def _serve(requests: int, answers: int, monitor: int, setup, explain) -> None:
    """The launcher's life: confine, then answer each request until the monitor goes."""
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):  # the monitor's stdio may be the container's streams
        os.dup2(devnull, fd)
    os.close(devnull)
    sc.close_all_but({0, 1, 2, requests, answers})
    signals.restore_defaults()  # the probes inherit what is ignored here
    try:
        start, failure = setup(), None
    except BaseException as exc:  # each probe fails alike, as each exec would
        start, failure = None, explain(exc)
    sc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # after setup: a change of user clears it
    if os.getppid() != monitor:
        return
    abandoned: list[subprocess.Popen] = []
    pending = b""
    while True:
        while b"\n" not in pending:
            data = os.read(requests, 65536)
            if not data:
                return
            pending += data
        line, pending = pending.split(b"\n", 1)
        request = json.loads(line)
        _reap(abandoned)
        if failure is not None:
            code, output = -1, failure
        else:
            code, output = _probe(start, request["argv"], request["timeout"], explain, abandoned)
        os.write(answers, json.dumps({"code": code, "output": output}).encode() + b"\n")


def _probe(start: Start, argv: list[str], timeout: float, explain, abandoned: list[subprocess.Popen]) -> tuple[int, str]:
    try:
        return probe.run(lambda stdio: _Spawned(start(argv, stdio), abandoned), timeout)
    except BaseException as exc:  # it could not start: -1 and the error, as dockerd records it
        return -1, explain(exc)


def spawn(program: str, argv: list[str], env: dict[str, str], stdio: tuple[int, int, int]) -> subprocess.Popen:
    """Start a probe on those fds. subprocess starts it with vfork where it can (no user,
    group or preexec function is asked for: the launcher already is the container's user),
    and, unlike posix_spawn, leaves no signal ignored (glibc's ignores its own two)."""
    return subprocess.Popen(argv, executable=program, env=env, stdin=stdio[0], stdout=stdio[1], stderr=stdio[2])


class _Spawned:
    def __init__(self, process: subprocess.Popen, abandoned: list[subprocess.Popen]):
        self.process, self.abandoned = process, abandoned

    def finish(self) -> tuple[int, str]:
        code = self.process.wait()
        return (code if code >= 0 else 128 - code), ""

    def abandon(self) -> None:
        """It runs on, as dockerd's timed-out probes do; reaped once it ends."""
        self.abandoned.append(self.process)


def _reap(abandoned: list[subprocess.Popen]) -> None:
    abandoned[:] = [process for process in abandoned if process.poll() is None]
