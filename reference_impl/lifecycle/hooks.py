"""What the shim asks about a container's life between its runs: start the health monitor
when the process runs, stop it when it exits, run the process again (restart policy), and
wait the back-off, which a `stop` cuts short."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from reference_impl.lifecycle import health, restart
from reference_impl.lifecycle.settings import LifecycleOptions

STOP_MARK = "stop-requested"


def request_stop(container_dir: Path) -> None:
    """A user stopped the container: its shim must not run it again."""
    try:
        (Path(container_dir) / STOP_MARK).touch()
    except FileNotFoundError:  # removed meanwhile
        pass


def stop_requested(container_dir: Path) -> bool:
    return (Path(container_dir) / STOP_MARK).exists()


class ShimHooks:
    def __init__(self, container_dir: Path, options: LifecycleOptions, on_state, exec_probe):
        """on_state(**values): records state; exec_probe(argv) -> (code, output): runs a
        health probe inside the container."""
        self.dir = Path(container_dir)
        self.options = options
        self.on_state = on_state
        self.exec_probe = exec_probe
        self.restart_count = 0
        self.delay = 0.0
        self.started_at = 0.0
        self.monitor = 0
        try:
            (self.dir / STOP_MARK).unlink()  # a new start: what stopped the last one is over
        except FileNotFoundError:
            pass

    def state_at_start(self) -> dict:
        """What the shim records with Status=running, in the same write."""
        return {"RestartCount": self.restart_count, "Restarting": False}

    def started(self, pid: int) -> None:
        self.started_at = time.monotonic()
        check = self.options.healthcheck
        health.reset(self.dir, check)  # each run, restarts included
        if check is not None and health.enabled(check):
            self.monitor = health.start_monitor(self.dir, check, pid, self.exec_probe)

    def exited(self) -> None:
        if self.monitor:
            try:
                os.kill(self.monitor, signal.SIGKILL)
                os.waitpid(self.monitor, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.monitor = 0
            health.mark_unhealthy(self.dir)

    def restarts(self, exit_code: int) -> bool:
        return self.options.restart.restarts(exit_code, self.restart_count, stop_requested(self.dir))

    def back_off(self) -> bool:
        """Wait before the next run; False when a stop came meanwhile."""
        self.delay = restart.delay(self.delay, time.monotonic() - self.started_at)
        self.restart_count += 1  # as dockerd: counted when the restart is decided
        self.on_state(Status="restarting", Restarting=True, RestartCount=self.restart_count)
        deadline = time.monotonic() + self.delay
        while time.monotonic() < deadline:
            if stop_requested(self.dir) or not self.dir.is_dir():
                self.on_state(Status="exited", Restarting=False)
                return False
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return True
