"""DESIGN principle 5: the suite drives engines as black boxes, never by import."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_conformance_never_imports_reference_impl():
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "The suite treats every engine as a black box KEPT" in out.stdout
