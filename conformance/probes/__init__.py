"""Small static programs the confinement checks run inside containers (busybox has no
way to make an arbitrary system call). Built with the host's gcc into a check's directory."""
from __future__ import annotations

import subprocess
from pathlib import Path

ESCAPE_SOURCE = Path(__file__).with_name("escape.c")


def build_escape(directory: Path) -> Path:
    """Compile escape.c (static) to directory/escape; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / "escape"
    if not out.exists():
        partial = directory / "escape.partial"
        subprocess.run(["gcc", "-static", "-O2", "-o", str(partial), str(ESCAPE_SOURCE)],
                       check=True, capture_output=True)
        partial.rename(out)
    return out
