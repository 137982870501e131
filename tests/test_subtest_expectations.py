"""Known differences at the level of what differs (conformance/known.py): a listed check
is a known difference only where its entry says it fails; a new failure elsewhere inside
it is a *fail*. Shown on real Podman with its own expectations file, through a podman
wrapper that removes a running container when asked to `rm` it (deviant.py force-rm)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conformance import known

ROOT = Path(__file__).resolve().parents[1]
DEVIANT = ROOT / "tests" / "sensitivity" / "deviant.py"
LISTED = "conformance/test_containers.py::test_rm_of_a_running_container_is_refused"


def test_an_entry_covers_only_the_sites_it_names():
    entry = known.Known("podman exits 2", "exit-codes", ("result.rc == 1", "message:container.remove_running"))
    assert entry.covers("assert result.rc == 1")
    assert entry.covers("message:container.remove_running")
    assert not entry.covers("message:container.no_such_container")
    assert not entry.covers('result = cli.fails("rm", name)')
    assert known.Known("anything", None).covers("whatever failed")


def test_reasons_are_written_once_and_referenced(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text('[reasons]\nwords = "says it otherwise"\n'
                    '[checks."test_a.py::test_b"]\nreason = "words"\nfails_at = ["message:a.b"]\n'
                    '[checks."test_a.py::test_c"]\nreason = "a reason of its own"\n')
    listed = known.load(str(path))
    assert listed["test_a.py::test_b"] == known.Known("says it otherwise", "words", ("message:a.b",))
    assert listed["test_a.py::test_c"] == known.Known("a reason of its own", None, ())


def test_a_new_failure_inside_a_listed_podman_check_is_a_fail(tmp_path):
    entry = known.lookup(LISTED, "podman", "podman")
    assert entry is not None and entry.fails_at, f"{LISTED} must be listed for podman, with where"
    (tmp_path / "impls.toml").write_text(
        f'[podman-force-rm]\nlike = "podman"\nargv = ["{DEVIANT}", "force-rm"]\n'
        'env = {STRATA_DEVIANT_DOCKER = "podman"}\ncleanup_argv = ["podman"]\n')
    report = tmp_path / "report"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-q", "--basetemp", str(tmp_path / "basetemp"),
         "--impl-file", str(tmp_path / "impls.toml"), "--impl", "podman-force-rm",
         "--require-impl", "podman-force-rm", "--report-dir", str(report), LISTED],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    data = json.loads((report / "results.json").read_text())
    [record] = data["checks"]
    assert record["expected_reason"] == entry.reason   # listed with podman's reason ...
    assert record["outcome"] == "fail", out.stdout[-3000:]   # ... but this is not that difference
    assert not entry.covers(record["failed_at"]), record["failed_at"]
    assert 'cli.fails("rm", name)' in record["failed_at"]
    assert out.returncode != 0
    assert not data["leaks"], data["leaks"]
