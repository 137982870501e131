"""Engine errors as dockerd's HTTP statuses (no aiohttp here: the worker imports it)."""
from __future__ import annotations

from reference_impl.errors import Conflict, InvalidArgument, InvalidInput, NotFound


def http_status(exc: BaseException) -> int:
    from reference_impl.lifecycle.logconfig import NoReading
    if isinstance(exc, NoReading):
        return 501
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, (InvalidInput, InvalidArgument)):
        return 400
    return 500
