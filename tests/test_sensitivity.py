"""DESIGN principle 4: a check that cannot fail is a defect.

Each deviating implementation (tests/sensitivity/deviant.py, a wrapper around the
real docker CLI) must be caught: the checks named for it must *fail* on it — a
non-conformance, not a harness error and not a skip. Deviants cover every check file.

Its blast radius — how many checks *outside* its area fail on it — stays small: a
wording or harness dependency that spreads one deviation over unrelated checks makes
the matrix unreadable. It is measured over SAMPLE, a few quick checks that need no registry
and no private instance (each run on every deviant), printed, and asserted
to be at most MAX_BLAST.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEVIANTS = ROOT / "tests" / "sensitivity" / "deviants.toml"
MAX_BLAST = 3

# deviant -> the cases (file::check, or file::check[param]) that state the behaviour it breaks
CAUGHT_BY = {
    "deviant-no-cache": ["test_build_cache.py::test_rebuild_uses_cache_for_every_step_after_from"],
    "deviant-hide-using-cache": [
        "test_build_cache.py::test_changing_env_refreshed_at_rebuilds_that_step_and_every_later_one"],
    "deviant-force-rmi": ["test_rmi.py::test_rmi_last_tag_of_an_image_a_stopped_container_uses_must_be_forced"],
    "deviant-keep-tag-on-rmi": ["test_rmi.py::test_rmi_tag_deletes_the_image_and_its_untagged_parents"],
    "deviant-rmi-any-tag": ["test_rmi.py::test_rmi_without_tag_looks_for_latest"],
    "deviant-drop-publish-address": ["test_ports.py::test_publish_fixed_host_port_on_loopback"],
    "deviant-wrong-container-port": ["test_ports.py::test_traffic_reaches_the_container_that_published_the_port"],
    "deviant-port-any-address": ["test_ports.py::test_publish_random_port_on_loopback_port_prints_the_mapping"],
    "deviant-commit-whole-filesystem": ["test_commit.py::test_commit_prints_the_new_image_id_and_adds_exactly_one_layer"],
    "deviant-unconfined": ["test_confinement.py::test_default_capabilities_are_dockers_fourteen_and_seccomp_is_on",
                           "test_confinement.py::test_mount_is_refused"],
    "deviant-ignore-memory-limit": ["test_confinement.py::test_memory_limit_and_swap"],
    "deviant-diff-hides-deletes": ["test_cow.py::test_diff_lists_added_changed_and_deleted_paths_with_their_directories"],
    "deviant-build-drops-build-args": ["test_build.py::test_build_arg_overrides_the_arg_default_and_is_not_kept"],
    "deviant-images-ignore-reference": ["test_images.py::test_images_repository_filter_lists_only_that_repository"],
    "deviant-history-hides-nop": ["test_layering.py::test_history_shows_metadata_steps_as_nop_rows_of_size_zero"],
    "deviant-push-does-nothing": ["test_registry.py::test_push_prints_the_digest_and_size_the_registry_serves"],
    "deviant-login-elsewhere": ["test_login.py::test_login_stores_base64_credentials_in_the_client_config"],
    "deviant-prune-does-nothing": ["test_pipelines.py::test_image_prune_removes_only_dangling_images"],
    "deviant-ps-ignores-status-filter": ["test_filters.py::test_ps_filter_status"],
    "deviant-run-fixes-bad-env": ["test_bad_input.py::test_run_refuses_a_malformed_flag_with_125[env-without-name]"],
    "deviant-force-rm": ["test_containers.py::test_rm_of_a_running_container_is_refused"],
    "deviant-ro-bind-is-rw": ["test_volumes.py::test_read_only_bind_mount_refuses_writes"],
    "deviant-cp-copies-nothing": ["test_cp.py::test_cp_a_file_out_and_in"],
    "deviant-network-drops-alias": [
        "test_networks.py::test_containers_on_a_user_network_reach_each_other_by_name_alias_and_short_id"],
    "deviant-kill-ignores-signal": ["test_lifecycle.py::test_kill_with_a_signal_name_or_number_reaches_the_process"],
    "deviant-exec-ignores-workdir": ["test_exec.py::test_exec_user_workdir_and_env"],
    "deviant-logs-ignores-tail": ["test_logs.py::test_tail_keeps_the_last_lines"],
    "deviant-attach-ignores-detach-keys": ["test_attach.py::test_detach_keys_choose_the_sequence"],
}

# quick checks from four areas, run on every deviant to measure its blast radius (the
# whole suite per deviant would cost CI minutes for each of ~20 deviants)
SAMPLE = [
    "test_images.py::test_images_quiet_prints_short_ids",
    "test_containers.py::test_rm_force_removes_a_running_container",
    "test_cow.py::test_diff_of_container_that_wrote_nothing_is_empty",
    "test_filters.py::test_ps_filter_name",
]


def area(case: str) -> str:
    return case.split("::", 1)[0]


def node(case: str) -> str:
    """The pytest selection for a case: its function (every parametrization)."""
    return "conformance/" + case.split("[", 1)[0]


def named(case: str, record_case: str) -> bool:
    return record_case == case or ("[" not in case and record_case.split("[", 1)[0] == case)


def run_checks(deviant: str, cases: list[str], tmp_path: Path) -> dict[str, str]:
    """{case: outcome} of the deviant's run of those cases (every parametrization)."""
    report_dir = tmp_path / "report"
    cmd = [sys.executable, "-m", "pytest", "-n", "0", "-q",
           "--basetemp", str(tmp_path / "basetemp"),
           "--impl-file", str(DEVIANTS), "--impl", deviant, "--require-impl", deviant,
           "--report-dir", str(report_dir), *sorted({node(c) for c in cases})]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    results = report_dir / "results.json"
    assert results.exists(), f"the nested suite wrote no results:\n{out.stdout}\n{out.stderr}"
    data = json.loads(results.read_text())
    assert not data["leaks"], f"the nested run leaked: {data['leaks']}"
    return {r["case"]: r["outcome"] for r in data["checks"]}


def test_deviants_cover_every_check_file():
    files = {p.name for p in (ROOT / "conformance").glob("test_*.py")}
    covered = {area(c) for cases in CAUGHT_BY.values() for c in cases}
    assert len(CAUGHT_BY) >= 20
    assert files <= covered, f"no deviant for {sorted(files - covered)}"


@pytest.mark.parametrize("deviant", sorted(CAUGHT_BY))
def test_deviating_implementation_is_caught(deviant, tmp_path, record_property):
    own = CAUGHT_BY[deviant]
    outcomes = run_checks(deviant, [*own, *SAMPLE], tmp_path)
    caught = {case: [o for c, o in outcomes.items() if named(case, c)] for case in own}
    assert all(caught.values()), f"not run: {[c for c, o in caught.items() if not o]}; ran {sorted(outcomes)}"
    areas = {area(c) for c in own}
    blast = sorted(c for c, o in outcomes.items() if area(c) not in areas and o != "pass")
    print(f"{deviant}: blast radius {len(blast)} {blast}")
    record_property("strata_deviant_caught", all(o == "fail" for found in caught.values() for o in found))
    record_property("strata_blast_radius", len(blast))
    assert all(o == "fail" for found in caught.values() for o in found), f"{deviant} was not caught: {caught}"
    assert len(blast) <= MAX_BLAST, f"{deviant} fails {len(blast)} checks outside {sorted(areas)}: {blast}"
