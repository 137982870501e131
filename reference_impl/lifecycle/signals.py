"""Signal names and numbers as dockerd reads them ("KILL", "SIGKILL", "9")."""
from __future__ import annotations

import signal

from reference_impl.errors import InvalidArgument


def number(name: str) -> int:
    text = name.upper()
    if text.isdigit():
        value = int(text)
        if 0 < value < signal.NSIG:
            return value
        raise InvalidArgument(f"Invalid signal: {name}")
    if not text.startswith("SIG"):
        text = "SIG" + text
    sig = getattr(signal, text, None)
    if not isinstance(sig, signal.Signals) or text.startswith("SIG_"):
        raise InvalidArgument(f"Invalid signal: {name}")
    return int(sig)
