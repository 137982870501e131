"""Restart policies (no, on-failure[:N], always, unless-stopped): parsed and checked as the
docker CLI and dockerd check them, and decided by the shim after each exit. Daemonless: the
shim that owns the process runs it again, after Docker's back-off (100 ms, doubling, reset
after a run of 10 s). A container whose shim is gone (a host reboot, a killed shim) is not
restarted by anyone: its exit is recorded (store/containers.py) and it stays exited."""
from __future__ import annotations

from dataclasses import dataclass

from reference_impl.errors import InvalidArgument, InvalidInput

POLICIES = ("no", "on-failure", "always", "unless-stopped")
FIRST_DELAY, MAX_DELAY, RESET_AFTER = 0.1, 60.0, 10.0


@dataclass(frozen=True)
class RestartPolicy:
    name: str = "no"
    maximum_retry_count: int = 0

    @classmethod
    def parse(cls, text: str) -> "RestartPolicy":
        """`--restart NAME[:N]` as the docker CLI reads it (the daemon checks the rest)."""
        name, colon, count = text.partition(":")
        if not colon:
            return cls(name, 0)
        try:
            return cls(name, int(count))
        except ValueError:
            raise InvalidInput("invalid restart policy format: maximum retry count must be an integer") from None

    @classmethod
    def from_json(cls, raw: dict | None) -> "RestartPolicy":
        raw = raw or {}
        return cls(raw.get("Name") or "no", raw.get("MaximumRetryCount") or 0)

    def to_json(self) -> dict:
        return {"Name": self.name or "no", "MaximumRetryCount": self.maximum_retry_count}

    def check(self) -> None:
        """dockerd's refusals (daemon/container.go, validateRestartPolicy)."""
        name = self.name or "no"
        if name not in POLICIES:
            raise InvalidArgument(f"invalid restart policy '{self.name}'")
        if name in ("no", "always", "unless-stopped") and self.maximum_retry_count:
            raise InvalidArgument(f"maximum retry count cannot be used with restart policy '{name}'")
        if self.maximum_retry_count < 0:
            raise InvalidArgument("maximum retry count cannot be negative")

    def restarts(self, exit_code: int, restart_count: int, stopped_by_user: bool) -> bool:
        """Whether the shim runs the process again after this exit."""
        if stopped_by_user:
            return False
        if self.name in ("always", "unless-stopped"):
            return True
        if self.name == "on-failure" and exit_code != 0:
            return not self.maximum_retry_count or restart_count < self.maximum_retry_count
        return False


def delay(previous: float, ran_for: float) -> float:
    """The back-off before the next run: doubling from 100 ms, back to 100 ms after a long run."""
    if ran_for >= RESET_AFTER or previous <= 0:
        return FIRST_DELAY
    return min(previous * 2, MAX_DELAY)
