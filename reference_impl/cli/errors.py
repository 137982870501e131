"""Engine errors in the docker CLI's words: what its daemon reports comes with
"Error response from daemon: ", what it finds itself comes bare."""
from __future__ import annotations

from reference_impl.errors import EngineError

DAEMON = "Error response from daemon: "


def words(exc: EngineError) -> str:
    return (DAEMON if exc.from_daemon else "") + exc.message


class ClientRefusal(Exception):
    """What the docker CLI refuses itself before it asks its daemon anything (-it without a
    terminal): its words bare, exit 1, whatever the verb (run's daemon errors are 125)."""
