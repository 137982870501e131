"""Named subsets (--subset IMPL=NAME, and the VM smoke list) name checks that exist, and
the option deselects exactly the other checks of the implementations it names."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conformance import subsets
from tests.reports.test_expectations import check_functions
from vms.pytest_plugin import smoke_checks

ROOT = Path(__file__).resolve().parents[2]


def _existing(nodeids) -> list[str]:
    known = check_functions()
    return [n for n in nodeids if n.removeprefix("conformance/") not in known]


@pytest.mark.parametrize("name", subsets.names())
def test_every_check_a_subset_names_exists(name):
    checks = subsets.load(name)
    assert checks, f"subset {name} is empty"
    assert _existing(checks) == [], f"subset {name} names checks that do not exist"


def test_every_check_of_the_vm_smoke_list_exists():
    assert _existing(smoke_checks()) == []


def test_the_ci_subset_keeps_two_checks_of_every_check_file():
    # the CI subset of podman keeps every area compared: at least two checks of each file
    files = {p.name for p in (ROOT / "conformance").glob("test_*.py")}
    per_file = {}
    for nodeid in subsets.load("ci"):
        per_file.setdefault(nodeid.split("::")[0].removeprefix("conformance/"), []).append(nodeid)
    assert {f for f in files if len(per_file.get(f, [])) < 2} == set()


def test_unknown_subset_and_malformed_spec_are_refused():
    with pytest.raises(ValueError, match="no subset named 'nope'"):
        subsets.parse(["podman=nope"])
    with pytest.raises(ValueError, match="expected IMPL=NAME"):
        subsets.parse(["podman"])


def test_outside_applies_only_to_the_implementations_named():
    chosen = [("vagrant:*", frozenset({"conformance/test_a.py::test_x"})), ("podman", frozenset())]
    assert subsets.outside("conformance/test_a.py::test_y[vagrant:docker]", "vagrant:docker", chosen)
    assert not subsets.outside("conformance/test_a.py::test_x[vagrant:docker]", "vagrant:docker", chosen)
    assert subsets.outside("conformance/test_a.py::test_x[podman]", "podman", chosen)
    assert not subsets.outside("conformance/test_a.py::test_y[docker]", "docker", chosen)
    assert not subsets.outside("tests/test_z.py::test_z", None, chosen)


def test_collection_deselects_the_other_checks_of_the_named_implementation():
    """--collect-only with two implementations: the subset's impl gets its listed checks only."""
    def collected(*extra):
        out = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly",
             "conformance/test_rmi.py", "--impl", "docker,strata", "--no-leak-check", *extra],
            cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert out.returncode in (0, 5), out.stdout + out.stderr
        return [line for line in out.stdout.splitlines() if "::" in line]
    whole = collected()
    cut = collected("--subset", "strata=ci")
    listed = {n for n in subsets.load("ci") if n.startswith("conformance/test_rmi.py::")}
    assert [n for n in cut if n.endswith("[docker]")] == [n for n in whole if n.endswith("[docker]")]
    on_strata = {n.split("[", 1)[0] for n in cut if n.endswith("[strata]")}
    assert on_strata == listed and len(on_strata) < len({n for n in whole if n.endswith("[strata]")})
