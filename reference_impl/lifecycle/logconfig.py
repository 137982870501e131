"""HostConfig.LogConfig: the json-file driver (with `max-size` and `max-file` rotation, as
dockerd's) and `none` (nothing kept: `logs` is refused in dockerd's words). Other drivers
and options are refused, never accepted and ignored.

Rotation: before a line is written, a file that has reached max-size becomes log.json.1
(log.json.1 becomes .2, … up to max-file - 1 old files; the oldest goes). `logs` reads the
old files, oldest first, then log.json.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from reference_impl.errors import EngineError, InvalidArgument

# dockerd's own drivers: known to exist, not built here
_OTHER_DRIVERS = {"local", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "etwlogs", "gcplogs",
                  "logentries"}
_JSON_FILE_OPTS = {"max-size", "max-file", "compress", "labels", "labels-regex", "env", "env-regex", "tag"}
_UNITS = {"": 1, "k": 1000, "m": 1000 ** 2, "g": 1000 ** 3, "t": 1000 ** 4}


class NoReading(EngineError):
    """`logs` of a container whose driver keeps nothing."""


@dataclass(frozen=True)
class LogConfig:
    driver: str = "json-file"
    options: tuple = ()            # ((key, value), …) as given

    @classmethod
    def from_json(cls, raw: dict | None) -> "LogConfig":
        raw = raw or {}
        return cls(raw.get("Type") or "json-file", tuple(sorted((raw.get("Config") or {}).items())))

    def to_json(self) -> dict:
        return {"Type": self.driver, "Config": dict(self.options)}

    def check(self) -> None:
        """dockerd's refusals at create, and what strata does not build."""
        if self.driver == "none":
            if self.options:
                raise InvalidArgument(f"unknown log opt '{self.options[0][0]}' for none log driver")
            return
        if self.driver in _OTHER_DRIVERS:
            raise InvalidArgument(f"strata implements the json-file and none log drivers only, not {self.driver}")
        if self.driver != "json-file":
            raise InvalidArgument(f'error looking up logging plugin {self.driver}: plugin "{self.driver}" not found')
        for key, value in self.options:
            if key not in _JSON_FILE_OPTS:
                raise InvalidArgument(f"unknown log opt '{key}' for json-file log driver")
            if key not in ("max-size", "max-file"):
                raise InvalidArgument(f"strata does not implement the json-file log opt '{key}'")
        self.rotation()

    def rotation(self) -> tuple[int, int]:
        """(max size in bytes or -1, how many files at most)."""
        opts = dict(self.options)
        size = -1
        if "max-size" in opts:
            match = re.fullmatch(r"(\d+(?:\.\d+)?) ?([kKmMgGtT])?[bB]?", opts["max-size"].strip())
            if not match:
                raise InvalidArgument(f"failed to initialize logging driver: invalid size: '{opts['max-size']}'")
            size = int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])
        files = 1
        if "max-file" in opts:
            try:
                files = int(opts["max-file"])
            except ValueError:
                raise InvalidArgument("failed to initialize logging driver: strconv.Atoi: parsing "
                                      f"\"{opts['max-file']}\": invalid syntax") from None
            if files < 1:
                raise InvalidArgument("failed to initialize logging driver: max-file cannot be less than 1")
        return size, files   # max-file without max-size: one file that grows, as dockerd's


def of_record(record: dict) -> LogConfig:
    return LogConfig.from_json(record.get("HostConfig", {}).get("LogConfig"))


def keeps_logs(record: dict) -> bool:
    return of_record(record).driver != "none"


def rotated(path: Path, files: int) -> list[Path]:
    """The old files of a log, oldest first (that exist)."""
    return [p for p in (Path(f"{path}.{n}") for n in range(files - 1, 0, -1)) if p.exists()]


def rotate(path: Path, files: int) -> None:
    """log.json -> log.json.1 -> … ; with one file at most, the log starts again empty."""
    if files <= 1:
        os.truncate(path, 0)
        return
    for n in range(files - 1, 1, -1):
        older = Path(f"{path}.{n - 1}")
        if older.exists():
            os.replace(older, f"{path}.{n}")
    os.replace(path, f"{path}.1")
