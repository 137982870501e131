"""Names for everything a check creates: unique to the run, the worker and the check.

Every image, container and directory carries the run's tag (``strata-<8 hex>``),
so the leak check at the end of a session can find what was left behind; images
and containers also carry two labels, inherited through builds, commits and
containers, that name the run and the check.
"""
from __future__ import annotations

import itertools
import re

LABEL_RUN = "strata.run"
LABEL_CHECK = "strata.check"

_serial = itertools.count(1)  # per worker process: checks of one worker never share a number
_VALID = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")


def run_tag(testrun_uid: str) -> str:
    return f"strata-{testrun_uid[:8]}"


class Names:
    """Names for one check: ``strata-<run>-<worker>-<n>-<what>``."""

    def __init__(self, run: str, worker: str):
        self.run = run
        self.prefix = f"{run}-{worker}-{next(_serial)}"

    def __call__(self, what: str) -> str:
        name = f"{self.prefix}-{what}".lower()
        if not _VALID.match(name):
            raise ValueError(f"not a valid repository or container name: {name!r}")
        return name

    def repo(self, what: str = "img") -> str:
        return self(what)

    def container(self, what: str = "ctr") -> str:
        return self(what)
