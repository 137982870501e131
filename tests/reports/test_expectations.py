"""Known differences are data: every expectations file parses, every entry names a check
that exists and gives a reason; the plugin turns a listed failure into a known
difference and flags a listed pass (shown with a deviating docker wrapper)."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conformance.results import EXPECTATIONS, case_id, expected_difference, expectations

ROOT = Path(__file__).resolve().parents[2]
DEVIANT = ROOT / "tests" / "sensitivity" / "deviant.py"


def check_functions() -> set[str]:
    found = set()
    for path in (ROOT / "conformance").glob("test_*.py"):
        tree = ast.parse(path.read_text())
        found |= {f"{path.name}::{node.name}" for node in tree.body
                  if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
    return found


@pytest.mark.parametrize("path", sorted(EXPECTATIONS.glob("*.expectations.toml")),
                         ids=lambda p: p.name.removesuffix(".expectations.toml"))
def test_every_expectation_names_an_existing_check_and_a_reason(path):
    data = tomllib.loads(path.read_text())
    assert set(data) <= {"checks", "reasons"}, f"{path}: only [reasons] and [checks.\"<file>::<check>\"] tables"
    known = check_functions()
    keys = message_keys()
    for key, entry in data.get("checks", {}).items():
        assert key.split("[", 1)[0] in known, f"{path.name}: {key} names no check"
        assert entry.get("reason", "").strip(), f"{path.name}: {key} has no reason"
        for site in entry.get("fails_at", []):
            if site.startswith("message:"):
                assert site.removeprefix("message:") in keys, f"{path.name}: {key}: no message {site}"
            else:
                assert " ".join(site.split()) in check_source(key), f"{path.name}: {key}: no {site!r} in the check"
    used = {entry["reason"] for entry in data.get("checks", {}).values()}
    assert set(data.get("reasons", {})) <= used, f"{path.name}: reasons no check refers to"


def message_keys() -> set[str]:
    from conformance import messages
    return {key for toml in (ROOT / "conformance" / "impls").glob("*.messages.toml")
            for key in messages.load(toml.name.removesuffix(".messages.toml"))}


def check_source(key: str) -> str:
    """The source of the check file a key names, whitespace collapsed (a site may be in one
    of the file's helpers)."""
    return " ".join((ROOT / "conformance" / key.split("::", 1)[0]).read_text().split())
