"""The create options of a container's life, and where they live in its record: Docker
keeps StopSignal, StopTimeout and Healthcheck in Config, RestartPolicy, Init, GroupAdd and
LogConfig in HostConfig."""
from __future__ import annotations

from dataclasses import dataclass, field

from reference_impl.errors import InvalidArgument
from reference_impl.lifecycle.logconfig import LogConfig
from reference_impl.lifecycle.restart import RestartPolicy


@dataclass(frozen=True)
class Healthcheck:
    """Config.Healthcheck: test is ["CMD", …], ["CMD-SHELL", "…"] or ["NONE"]; durations in ns."""
    test: list[str]
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    retries: int = 0

    def to_json(self) -> dict:
        found = {"Test": self.test}
        for key, value in (("Interval", self.interval), ("Timeout", self.timeout),
                           ("StartPeriod", self.start_period), ("Retries", self.retries)):
            if value:
                found[key] = value
        return found

    @classmethod
    def from_json(cls, raw: dict | None) -> "Healthcheck | None":
        if not raw:
            return None
        for key in ("Interval", "Timeout", "StartPeriod"):
            if (raw.get(key) or 0) < 0:
                raise InvalidArgument(f"{key} in Healthcheck cannot be negative")
            if 0 < (raw.get(key) or 0) < 1_000_000:
                raise InvalidArgument(f"{key} in Healthcheck cannot be less than 1ms")
        if (raw.get("Retries") or 0) < 0:
            raise InvalidArgument("Retries in Healthcheck cannot be negative")
        return cls(test=list(raw.get("Test") or []), interval=raw.get("Interval") or 0,
                   timeout=raw.get("Timeout") or 0, start_period=raw.get("StartPeriod") or 0,
                   retries=raw.get("Retries") or 0)


@dataclass(frozen=True)
class LifecycleOptions:
    """What run/create and POST /containers/create ask of a container's life."""
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    init: bool = False
    group_add: list[str] = field(default_factory=list)
    stop_signal: str | None = None
    stop_timeout: int | None = None
    healthcheck: Healthcheck | None = None   # None: the image's
    log_config: LogConfig = field(default_factory=LogConfig)

    def check(self, auto_remove: bool) -> None:
        """dockerd's refusals of a create request."""
        self.restart.check()
        self.log_config.check()
        if auto_remove and self.restart.name not in ("", "no"):
            raise InvalidArgument("can't create 'AutoRemove' container with restart policy")
        if self.stop_signal is not None:
            from reference_impl.lifecycle.signals import number
            number(self.stop_signal)

    def apply(self, config: dict, host: dict) -> None:
        """Write the options into a new container's Config and HostConfig records."""
        if self.stop_signal:
            config["StopSignal"] = self.stop_signal
        if self.stop_timeout is not None:
            config["StopTimeout"] = self.stop_timeout
        if self.healthcheck is not None:
            check = self.healthcheck.to_json()
            if not self.healthcheck.test:  # only timings given: the image's test, the new timings
                check = {**(config.get("Healthcheck") or {}), **check,
                         "Test": (config.get("Healthcheck") or {}).get("Test") or []}
            config["Healthcheck"] = check
        host.update(host_config(self))


def host_config(options: LifecycleOptions) -> dict:
    return {"RestartPolicy": options.restart.to_json(), "Init": options.init or None,
            "GroupAdd": list(options.group_add) or None, "LogConfig": options.log_config.to_json()}


def of_record(record: dict) -> LifecycleOptions:
    """The options a container was created with, from its record."""
    host, config = record.get("HostConfig", {}), record.get("Config", {})
    return LifecycleOptions(restart=RestartPolicy.from_json(host.get("RestartPolicy")),
                            init=bool(host.get("Init")), group_add=list(host.get("GroupAdd") or []),
                            stop_signal=config.get("StopSignal"), stop_timeout=config.get("StopTimeout"),
                            healthcheck=Healthcheck.from_json(config.get("Healthcheck")),
                            log_config=LogConfig.from_json(host.get("LogConfig")))
