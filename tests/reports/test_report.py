"""The report, from two recorded runs (tests/reports/runs/: real records of docker, strata
and podman for three areas; the second run brings a regression on strata, a fix, a
flaky docker check that passed on rerun, a removed and a new check).

The HTML is opened in Debian's headless chromium: a screenshot is taken and the DOM
that chromium built is checked for the matrix and the regression.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports import analysis, history, nightly
from reports.render import check_page, render

RUNS = Path(__file__).parent / "runs"
REGRESSION = ("strata", "test_ports.py::test_publish_fixed_host_port_on_loopback")
FIX = ("strata", "test_images.py::test_tag_without_tag_means_latest")
FLAKY = ("docker", "test_ports.py::test_traffic_reaches_the_container_that_published_the_port")
REMOVED = ("strata", "test_cow.py::test_diff_of_container_that_wrote_nothing_is_empty")
NEW = ("strata", "test_ports.py::test_publish_all_uses_ephemeral_ports")
SCREENSHOT_KEEP = Path("/tmp/strata-report-screenshot.png")  # left for a human to look at


@pytest.fixture
def history_dir(tmp_path) -> Path:
    target = tmp_path / "history"
    shutil.copytree(RUNS, target)
    return target


def test_changes_between_the_two_runs(history_dir):
    previous, latest = history.load(history_dir)
    changes = analysis.changes(previous, latest)
    assert [(c.impl, c.case) for c in changes.regressions] == [REGRESSION]
    assert [(c.impl, c.case, c.flaky) for c in changes.new_failures] == [(*FLAKY, True), (*REGRESSION, False)]
    assert [(c.impl, c.case) for c in changes.fixes] == [FIX]
    assert [(c.impl, c.case) for c in changes.removed_checks] == [REMOVED]
    assert [(c.impl, c.case) for c in changes.new_checks] == [NEW]


def test_flaky_counts_and_pass_rates(history_dir):
    runs = history.load(history_dir)
    assert [(f.impl, f.case) for f in analysis.flaky(runs)] == [FLAKY]
    counts = analysis.counts(runs[-1])
    assert counts["podman"]["known difference"] == 19 and counts["strata"]["fail"] == 1
    assert analysis.pass_rate(runs[-1], "docker") == pytest.approx(37 / 38)
    trend = analysis.trend(runs)
    assert set(trend) == {"docker", "podman", "strata"} and all(len(v) == 2 for v in trend.values())


def test_history_keeps_the_newest_runs(history_dir):
    gone = history.prune(history_dir, keep=1)
    assert [p.name for p in gone] == ["20261126T030000Z"]
    assert [r.name for r in history.load(history_dir)] == ["20261127T030000Z"]


class _Dom(HTMLParser):
    """The elements of chromium's DOM dump that the checks below look at."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.cells: dict[tuple[str, str], dict] = {}   # (impl, case) -> attributes of the matrix cell
        self.items: dict[str, list[dict]] = {}          # list id -> its <li> attributes
        self.links: list[str] = []
        self._row: str | None = None
        self._list: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "tr" and "data-case" in a:
            self._row = a["data-case"]
        if tag == "td" and self._row and "data-impl" in a:
            self.cells[(a["data-impl"], self._row)] = a
        if tag == "ul" and "id" in a:
            self._list = a["id"]
        if tag == "li" and self._list:
            self.items.setdefault(self._list, []).append(a)
        if tag == "a" and "href" in a:
            self.links.append(a["href"])

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None
        if tag == "ul":
            self._list = None


def chromium(*args: str, user_data: Path) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is needed (apt-get install chromium; scripts/setup installs it)")
    return subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", f"--user-data-dir={user_data}", *args],
        capture_output=True, text=True, timeout=120)


def test_report_opens_in_headless_chromium_with_the_matrix_and_the_regression(history_dir, tmp_path):
    index = render(history_dir, tmp_path / "report")
    url = index.resolve().as_uri()

    shot = tmp_path / "report.png"
    out = chromium(f"--screenshot={shot}", "--window-size=1400,1800", "--hide-scrollbars", url,
                   user_data=tmp_path / "chromium-profile")
    assert shot.exists() and shot.stat().st_size > 20_000, out.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shutil.copy(shot, SCREENSHOT_KEEP)

    out = chromium("--dump-dom", url, user_data=tmp_path / "chromium-profile")
    assert out.returncode == 0, out.stderr[-2000:]
    dom = _Dom()
    dom.feed(out.stdout)
    assert {"matrix", "summary", "changes", "new-failures", "fixes", "flaky", "history", "trend",
            "environment"} <= dom.ids
    # the matrix: every check of the latest run, one cell per implementation
    latest = history.load(history_dir)[-1]
    assert {key for key, cell in dom.cells.items() if cell["data-outcome"] != "none"} == set(latest.records)
    assert dom.cells[("docker", NEW[1])]["data-outcome"] == "none"  # a check only strata ran
    assert dom.cells[REGRESSION]["data-outcome"] == "fail"
    assert dom.cells[("docker", REGRESSION[1])]["data-outcome"] == "pass"
    assert dom.cells[("podman", "test_images.py::test_images_lists_columns_and_a_12_hex_id")][
        "data-outcome"] == "known difference"
    # the regression, and the flaky failure that is not one
    new_failures = {(li["data-impl"], li["data-case"]): li["class"] for li in dom.items["new-failures"]}
    assert new_failures == {REGRESSION: "regression", FLAKY: "muted"}
    assert [(li["data-impl"], li["data-case"]) for li in dom.items["fixes"]] == [FIX]
    # every cell links to its page, and the regression's page carries its transcript
    assert check_page(*REGRESSION) in dom.links
    page = chromium("--dump-dom", (index.parent / check_page(*REGRESSION)).resolve().as_uri(),
                    user_data=tmp_path / "chromium-profile").stdout
    assert "$ strata port strata-5e6f7a8b-gw0-12-web 80" in page and "0.0.0.0:24117" in page


def test_nightly_exits_non_zero_on_a_regression_and_zero_without(tmp_path, monkeypatch):
    """The nightly flow with the suite replaced by recorded runs: rerun, prune, render, verdict."""
    recorded = sorted(RUNS.iterdir())
    calls = []

    def fake_pytest(args, report_dir, workers):
        calls.append(args)
        report_dir.mkdir(parents=True, exist_ok=True)
        if report_dir.name == "rerun":  # the rerun: the flaky docker check passes, the rest fails again
            data = json.loads((recorded[1] / "results.json").read_text())
            for r in data["checks"]:
                if (r["implementation"], r["case"]) == FLAKY:
                    r["outcome"] = "pass"
            (report_dir / "results.json").write_text(json.dumps(data))
            return 1
        source = recorded[0] if len(calls) == 1 else recorded[1]
        shutil.copy(source / "results.json", report_dir / "results.json")
        return 0 if len(calls) == 1 else 1

    monkeypatch.setattr(nightly, "pytest_run", fake_pytest)
    hist, out = tmp_path / "history", tmp_path / "report"
    assert nightly.main(["--history", str(hist), "--out", str(out), "--keep", "5", "--workers", "2"]) == 0
    import time
    time.sleep(1.1)  # run directories are named by the second
    assert nightly.main(["--history", str(hist), "--out", str(out), "--keep", "5", "--workers", "2"]) == 1
    latest = history.load(hist)[-1]
    assert latest.records[FLAKY]["rerun"] == "pass"
    assert latest.records[REGRESSION]["rerun"] == "fail"
    rerun_args = calls[-1]
    assert f"conformance/{REGRESSION[1]}[strata]" in rerun_args
    assert (out / "index.html").exists()


def test_leaks_name_their_check_and_project_tests_are_no_implementation(history_dir, tmp_path):
    """A leftover names the check that made it (results.json and the page); the project's own
    tests, run in the same session, are counted apart, never as an implementation '-'."""
    from conformance.leaks import Leak
    from conformance.results import ResultLog

    log = ResultLog()
    log.records["conformance/test_x.py::test_y[podman]"] = {
        "check": "conformance/test_x.py::test_y[podman]", "prefix": "strata-0123abcd-gw0-77"}
    leak = Leak("podman", "image", "a2b364fe81ea localhost/strata-0123abcd-gw0-77-base:latest",
                prefix="strata-0123abcd-gw0-77")
    log.attribute([leak])
    assert leak.check == "conformance/test_x.py::test_y[podman]"
    latest = history_dir / "20261127T030000Z" / "results.json"
    data = json.loads(latest.read_text())
    data["leaks"] = [leak.record()]
    data["project_tests"] = {"pass": 607}
    data["checks"].append({**data["checks"][0], "check": "tests/test_boundary.py::test_z",
                           "case": "tests/test_boundary.py::test_z", "implementation": "-"})
    latest.write_text(json.dumps(data))
    run = history.load(history_dir)[-1]
    assert "-" not in run.implementations
    assert run.leaks == ["podman: image a2b364fe81ea localhost/strata-0123abcd-gw0-77-base:latest "
                         "(made by conformance/test_x.py::test_y[podman])"]
    page = render(history_dir, tmp_path / "out").read_text()
    assert "made by conformance/test_x.py::test_y[podman]" in page
    assert "607 pass" in page
