"""Import boundaries: DESIGN principle 5 (the suite drives engines as black boxes, never by
import) and the engine's layout (cli/ and api/ import engine/, never each other; engine/
imports neither), stated as import-linter contracts in pyproject.toml and run here."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = [
    "The suite treats every engine as a black box",
    "The two faces, cli and api, never import each other",
    "The engine imports neither face",
]


@pytest.fixture(scope="module")
def lint_output() -> str:
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@pytest.mark.parametrize("contract", CONTRACTS)
def test_import_contract_is_kept(lint_output, contract):
    assert f"{contract} KEPT" in lint_output, lint_output
