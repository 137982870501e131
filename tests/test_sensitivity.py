"""DESIGN principle 4: a check that cannot fail is a defect.

Each deviating implementation (tests/sensitivity/deviant.py, a wrapper around the
real docker CLI) must be caught: the checks named for it must *fail* on it — a
non-conformance, not a harness error and not a skip.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEVIANTS = ROOT / "tests" / "sensitivity" / "deviants.toml"

# deviant -> the checks that state the behaviour it breaks
CAUGHT_BY = {
    "deviant-no-cache": ["conformance/test_build_cache.py::test_rebuild_uses_cache_for_every_step_after_from"],
    "deviant-hide-using-cache": [
        "conformance/test_build_cache.py::test_changing_env_refreshed_at_rebuilds_that_step_and_every_later_one"],
    "deviant-force-rmi": [
        "conformance/test_rmi.py::test_rmi_last_tag_of_an_image_a_stopped_container_uses_must_be_forced"],
    "deviant-keep-tag-on-rmi": ["conformance/test_rmi.py::test_rmi_tag_deletes_the_image_and_its_untagged_parents"],
    "deviant-rmi-any-tag": ["conformance/test_rmi.py::test_rmi_without_tag_looks_for_latest"],
    "deviant-drop-publish-address": ["conformance/test_ports.py::test_publish_fixed_host_port_on_loopback"],
    "deviant-wrong-container-port": [
        "conformance/test_ports.py::test_traffic_reaches_the_container_that_published_the_port"],
    "deviant-port-any-address": [
        "conformance/test_ports.py::test_publish_random_port_on_loopback_port_prints_the_mapping"],
    "deviant-commit-whole-filesystem": [
        "conformance/test_commit.py::test_commit_prints_the_new_image_id_and_adds_exactly_one_layer"],
    "deviant-unconfined": [
        "conformance/test_confinement.py::test_default_capabilities_are_dockers_fourteen_and_seccomp_is_on",
        "conformance/test_confinement.py::test_mount_is_refused"],
    "deviant-ignore-memory-limit": ["conformance/test_confinement.py::test_memory_limit_and_swap"],
    "deviant-diff-hides-deletes": [
        "conformance/test_cow.py::test_diff_lists_added_changed_and_deleted_paths_with_their_directories"],
}


def run_checks(deviant: str, checks: list[str], tmp_path: Path) -> dict[str, str]:
    report_dir = tmp_path / "report"
    cmd = [sys.executable, "-m", "pytest", "-n", "0", "-q",
           "--basetemp", str(tmp_path / "basetemp"),
           "--impl-file", str(DEVIANTS), "--impl", deviant, "--require-impl", deviant,
           "--report-dir", str(report_dir), *checks]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    results = report_dir / "results.json"
    assert results.exists(), f"the nested suite wrote no results:\n{out.stdout}\n{out.stderr}"
    data = json.loads(results.read_text())
    assert not data["leaks"], f"the nested run leaked: {data['leaks']}"
    return {r["check"]: r["outcome"] for r in data["checks"]}


@pytest.mark.parametrize("deviant", sorted(CAUGHT_BY))
def test_deviating_implementation_is_caught(deviant, tmp_path, record_property):
    checks = CAUGHT_BY[deviant]
    outcomes = run_checks(deviant, checks, tmp_path)
    expected = {f"{c}[{deviant}]" for c in checks}
    assert set(outcomes) == expected, f"ran {sorted(outcomes)}, expected {sorted(expected)}"
    caught = all(outcome == "fail" for outcome in outcomes.values())
    record_property("strata_deviant_caught", caught)
    assert caught, f"{deviant} was not caught: {outcomes}"
