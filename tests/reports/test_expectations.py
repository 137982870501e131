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


@pytest.mark.parametrize("path", sorted(EXPECTATIONS.glob("*.toml")), ids=lambda p: p.stem)
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
    return {key for toml in (ROOT / "conformance" / "messages").glob("*.toml")
            for key in messages.load(toml.stem)}


def check_source(key: str) -> str:
    """The source of the check a key names, whitespace collapsed."""
    file, _, name = key.split("[", 1)[0].partition("::")
    tree = ast.parse((ROOT / "conformance" / file).read_text())
    found = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    return " ".join(ast.unparse(found).split()) + " " + " ".join(
        ast.get_source_segment((ROOT / "conformance" / file).read_text(), found).split())


def test_docker_the_oracle_has_no_expected_differences():
    assert expectations("docker") == {}


def test_case_id_leaves_out_the_implementation():
    assert case_id("conformance/test_a.py::test_b[podman]", "podman") == "test_a.py::test_b"
    assert case_id("conformance/test_a.py::test_b[docker-registry-podman]", "podman") == \
        "test_a.py::test_b[docker-registry]"
    assert case_id("conformance/test_a.py::test_b[podman-proto]", "podman") == "test_a.py::test_b[proto]"
    assert case_id("conformance/test_a.py::test_b", "podman") == "test_a.py::test_b"


def test_an_entry_covers_every_parametrization_or_one(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text('[checks."test_a.py::test_b"]\nreason = "all"\n'
                    '[checks."test_a.py::test_c[strata-registry]"]\nreason = "one"\n')
    ref = str(path)
    assert expected_difference("conformance/test_a.py::test_b[docker-registry-x]", "x", ref) == "all"
    assert expected_difference("conformance/test_a.py::test_c[strata-registry-x]", "x", ref) == "one"
    assert expected_difference("conformance/test_a.py::test_c[docker-registry-x]", "x", ref) is None


CACHE_CHECK = "conformance/test_build_cache.py::test_rebuild_uses_cache_for_every_step_after_from"
PASSING_CHECK = "conformance/test_images.py::test_tag_without_tag_means_latest"


def test_listed_failure_is_a_known_difference_and_listed_pass_is_flagged(tmp_path):
    """A docker wrapper that always adds --no-cache, with an expectations file listing the
    cache check it fails and a check it passes: the run passes, the outcomes say why."""
    (tmp_path / "expected.toml").write_text(
        f'[checks."{CACHE_CHECK.removeprefix("conformance/")}"]\nreason = "this wrapper never uses the cache"\n'
        f'[checks."{PASSING_CHECK.removeprefix("conformance/")}"]\nreason = "listed, but it behaves"\n')
    (tmp_path / "impls.toml").write_text(
        f'[deviant-listed]\nlike = "docker"\nargv = ["{DEVIANT}", "no-cache"]\n'
        'cleanup_argv = ["docker"]\nexpectations = "./expected.toml"\n')
    report = tmp_path / "report"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-q", "--basetemp", str(tmp_path / "basetemp"),
         "--impl-file", str(tmp_path / "impls.toml"), "--impl", "deviant-listed",
         "--require-impl", "deviant-listed", "--report-dir", str(report), CACHE_CHECK, PASSING_CHECK],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    data = json.loads((report / "results.json").read_text())
    records = {r["check"].split("[")[0]: r for r in data["checks"]}
    known, flagged = records[CACHE_CHECK], records[PASSING_CHECK]
    assert known["outcome"] == "known difference"
    assert known["expected_reason"] == "this wrapper never uses the cache"
    assert "$ deviant-listed build" in known["transcript"]
    assert flagged["outcome"] == "pass" and flagged["unexpected_pass"] is True
    assert "listed as known differences but pass" in out.stdout
    junit = (report / "junit-deviant-listed.xml").read_text()
    assert 'type="known-difference"' in junit
    fingerprint = data["environment"]["implementations"]["deviant-listed"]
    assert fingerprint["engine_version"] and fingerprint["storage_driver"]
