"""Signal names and numbers as dockerd reads them ("KILL", "SIGKILL", "9"), and the
dispositions a container's process starts with."""
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


def restore_defaults() -> None:
    """Every signal this Python process ignores or handles back to its default, as a
    container's processes start under runc: an ignored SIGPIPE would be inherited through
    exec (`yes | head -1` would end in "Broken pipe")."""
    for sig in signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP}:
        if signal.getsignal(sig) not in (signal.SIG_DFL, None):
            signal.signal(sig, signal.SIG_DFL)
