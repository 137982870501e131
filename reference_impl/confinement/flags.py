"""The docker CLI's reading of the confinement flags of run/create (sizes, CPUs, ulimits,
capability names, --security-opt), into the HostConfig fields it sends."""
from __future__ import annotations

import json
import re

from reference_impl.confinement.settings import ULIMITS, SettingsError

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


class FlagError(SettingsError):
    """A value the CLI itself refuses, before asking the engine."""


def ram_in_bytes(text: str, flag: str) -> int:
    """go-units RAMInBytes: "64m", "1.5g", "512" (bytes), binary multiples."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?", text.strip())
    if not match:
        raise FlagError(f"invalid argument \"{text}\" for \"{flag}\" flag: invalid size: '{text}'")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


def memory_swap(text: str) -> int:
    return -1 if text.strip() == "-1" else ram_in_bytes(text, "--memory-swap")


def nano_cpus(text: str) -> int:
    try:
        return round(float(text) * 1e9)
    except ValueError:
        raise FlagError(f"invalid argument \"{text}\" for \"--cpus\" flag: failed to parse {text} "
                        "as a rational number") from None


def ulimit(text: str) -> dict:
    """"nofile=1024:2048" or "nproc=512" -> {"Name", "Hard", "Soft"}."""
    def refuse(why: str):
        return FlagError(f"invalid argument \"{text}\" for \"--ulimit\" flag: {why}")
    name, eq, values = text.partition("=")
    if not eq:
        raise refuse(f"invalid ulimit argument: {text}")
    if name not in ULIMITS:
        raise refuse(f"invalid ulimit type: {name}")
    soft, _, hard = values.partition(":")
    try:
        soft_n = int(soft)
        hard_n = int(hard) if hard else soft_n
    except ValueError:
        raise refuse(f"invalid ulimit argument: {text}") from None
    if soft_n > hard_n:
        raise refuse(f"ulimit soft limit must be less than or equal to hard limit: {soft_n} > {hard_n}")
    return {"Name": name, "Hard": hard_n, "Soft": soft_n}


def _caps(names: list[str]) -> set[str]:
    found = set()
    for name in names:
        upper = name.strip().upper()
        found.add(upper if upper == "ALL" or upper.startswith("CAP_") else "CAP_" + upper)
    return found


def capabilities(add: list[str], drop: list[str]) -> tuple[list[str] | None, list[str] | None]:
    """The CLI's CapAdd/CapDrop: normalized names, ALL trumps the others, an added
    capability is not also dropped; sorted."""
    adds, drops = _caps(add), _caps(drop)
    if "ALL" in adds:
        adds = {"ALL"}
    if "ALL" in drops:
        drops = {"ALL"}
    drops -= adds
    return sorted(adds) or None, sorted(drops) or None


def security_opts(values: list[str]) -> list[str] | None:
    """As the CLI sends them: a seccomp profile by path becomes the profile's JSON."""
    found = []
    for opt in values:
        if opt == "no-new-privileges":
            found.append(opt)
            continue
        sep = "=" if "=" in opt else ":" if ":" in opt else None
        if sep is None:
            raise FlagError(f'Invalid --security-opt: "{opt}"')
        key, _, value = opt.partition(sep)
        if key == "seccomp" and value != "unconfined":
            try:
                with open(value) as f:
                    text = f.read()
            except OSError as exc:
                raise FlagError(f"opening seccomp profile ({value}) failed: open {value}: "
                                f"{(exc.strerror or '').lower()}") from None
            try:
                compact = json.dumps(json.loads(text), separators=(",", ":"))
            except ValueError as exc:
                raise FlagError(f"compacting json for seccomp profile ({value}) failed: {exc}") from None
            found.append(f"seccomp={compact}")
            continue
        found.append(opt)
    return found or None
