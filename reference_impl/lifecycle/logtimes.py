"""Which log records a reader wants: `--since`/`--until` as the docker CLI reads them
(RFC 3339 with or without zone and fraction, Unix seconds with a fraction, or a Go
duration before now, in whole seconds) and as dockerd compares them (a record at the edge
is kept), and `--tail`."""
from __future__ import annotations

import datetime as dt
import re
import time

from reference_impl.errors import InvalidArgument, InvalidInput

_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?)?"
                      r"(Z|[+-]\d\d:\d\d)?")
_UNIX = re.compile(r"(\d+)(?:\.(\d{1,9}))?")
_DURATION = re.compile(r"([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+")
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def cli_time(value: str, flag: str, now: float | None = None) -> int:
    """A --since/--until value as Unix nanoseconds, or the docker CLI's refusal."""
    found = _parse(value, time.time() if now is None else now)
    if found is None:
        raise InvalidInput(f'invalid value for "{flag}": failed to parse value as time or duration: "{value}"')
    return found


def api_time(value: str, name: str) -> int | None:
    """dockerd's reading of the since/until query: Unix seconds[.nanoseconds] (0 or empty: none)."""
    if not value:
        return None
    match = _UNIX.fullmatch(value)
    if not match:
        raise InvalidArgument(f'failed to parse value as time or duration: "{value}"')
    seconds, fraction = match.groups()
    found = int(seconds) * 10**9 + int((fraction or "0").ljust(9, "0"))
    return found or None


def _parse(value: str, now: float) -> int | None:
    if _DURATION.fullmatch(value):
        sign, total = -1 if value.startswith("-") else 1, 0
        for number, unit in _PART.findall(value):
            total += int(float(number) * _UNIT_NS[unit])
        return int(now - sign * total / 1e9) * 10**9  # the CLI sends whole seconds
    match = _UNIX.fullmatch(value)
    if match:
        seconds, fraction = match.groups()
        return int(seconds) * 10**9 + int((fraction or "0").ljust(9, "0"))
    match = _RFC3339.fullmatch(value)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        stamp = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if zone in (None, "Z"):
        stamp = stamp.replace(tzinfo=dt.timezone.utc) if zone else stamp.astimezone()
    else:
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        offset = dt.timedelta(hours=hours, minutes=minutes) * (1 if zone[0] == "+" else -1)
        stamp = stamp.replace(tzinfo=dt.timezone(offset))
    return int(stamp.timestamp()) * 10**9 + int((fraction or "0").ljust(9, "0"))


def record_time(text: str) -> int:
    """A log record's RFC 3339 time (nanoseconds, UTC) as Unix nanoseconds."""
    found = _parse(text, 0)
    if found is None:
        raise ValueError(text)
    return found


def tail_count(value: str | None) -> int | None:
    """--tail / the tail query: a count, or None for all (dockerd takes anything else as all)."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def wanted(records: list, since: int | None, until: int | None) -> list:
    """The records between since and until, both included."""
    if since is None and until is None:
        return records
    kept = []
    for record in records:
        at = record_time(record.time)
        if (since is None or at >= since) and (until is None or at <= until):
            kept.append(record)
    return kept


def duration_ns(text: str) -> int | None:
    """A Go duration ("1s", "1m30s", "0") in nanoseconds; None when it is none."""
    if text == "0":
        return 0
    if not _DURATION.fullmatch(text):
        return None
    total = sum(int(float(number) * _UNIT_NS[unit]) for number, unit in _PART.findall(text))
    return -total if text.startswith("-") else total
