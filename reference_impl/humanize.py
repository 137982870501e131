"""Docker's human-readable sizes, durations and timestamps (go-units)."""
from __future__ import annotations

import time


def size(n: float, precision: int = 3) -> str:
    """go-units HumanSizeWithPrecision(n, precision): decimal units (HumanSize: precision 4)."""
    return _custom_size(n, 1000.0, ("B", "kB", "MB", "GB", "TB", "PB"), precision)


def binary_size(n: float) -> str:
    """go-units BytesSize: binary units, 4 significant digits."""
    return _custom_size(n, 1024.0, ("B", "KiB", "MiB", "GiB", "TiB", "PiB"), 4)


def _custom_size(n: float, base: float, units: tuple[str, ...], precision: int) -> str:
    """go-units CustomSize: divide by `base` while a larger unit is left, then %.<precision>g."""
    i = 0
    while n >= base and i < len(units) - 1:
        n /= base
        i += 1
    return f"{n:.{precision}g}{units[i]}"


def duration(seconds: float) -> str:
    """go-units HumanDuration."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = s // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(s / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{hours // 24 // 365} years"


def now_rfc3339() -> str:
    """Go's RFC3339Nano in UTC, as Docker writes `created`."""
    ns = time.time_ns()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 1_000_000_000))
    frac = f"{ns % 1_000_000_000:09d}".rstrip("0")
    return f"{stamp}.{frac}Z" if frac else f"{stamp}Z"


def parse_rfc3339(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 timestamp (nanoseconds cut to microseconds)."""
    if not text or text.startswith("0001-"):
        return 0.0
    from datetime import datetime, timezone  # not at the top: run writes times, never reads one
    main, _, rest = text.rstrip("Z").partition(".")
    frac = rest[:6].ljust(6, "0") if rest else "0"
    # fromisoformat (C) rather than strptime: a tenth of the time, and `ps` parses two a container
    return datetime.fromisoformat(main).replace(tzinfo=timezone.utc).timestamp() + int(frac) / 1e6


def ago(text: str) -> str:
    return duration(time.time() - parse_rfc3339(text)) + " ago"
