"""Outcomes of checks, kept apart, and what a run writes for the reports.

pass < known difference < fail (non-conformance) < error (the harness broke); skip =
unsupported. A *known difference* is a check that fails, where its entry in the
implementation's expectations file (conformance/impls/<name>.expectations.toml) expects it to
fail (conformance/known.py: the reason, written once, and the message key or statement):

    [checks."test_build.py::test_x"]              # every parametrization of the check
    reason = "build-words"                        # a key of the file's [reasons]
    fails_at = ["message:build.step"]
    [checks."test_registry.py::test_y[strata-registry]"]   # one parametrization (impl id left out)
    reason = "..."

Every failure record says where the check failed (``failed_at``); a listed check that
fails elsewhere is a *fail*.

A listed check that passes is an *unexpected pass*: its outcome is pass, the record
says ``unexpected_pass``, the terminal summary and the report show it, and with
``--strict-expectations`` it fails the run (as pytest's strict xfail does).

A run writes, under --report-dir: results.json (one record per check), one JUnit XML
file per implementation (junit-<name>.xml) and the environment fingerprint in
results.json["environment"].
"""
from __future__ import annotations

import enum
import json
import os
import platform
import socket
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from conformance import known
from conformance.known import EXPECTATIONS, case_id  # noqa: F401 (their home before known.py)

TRANSCRIPT_SECTION = "strata transcript"


class Outcome(str, enum.Enum):
    PASS = "pass"
    KNOWN = "known difference"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"


# worst last: a check's record takes the worst outcome over its phases
ORDER = [Outcome.PASS, Outcome.SKIP, Outcome.KNOWN, Outcome.FAIL, Outcome.ERROR]


# --- expectations (data, per implementation) ------------------------------------------------

def expectations(ref: str) -> dict[str, str]:
    """{check key: reason} from an expectations file (conformance/known.py reads it)."""
    return {key: entry.reason for key, entry in known.load(ref).items()}


def expected_difference(nodeid: str, impl: str, ref: str) -> str | None:
    """The reason this check is expected to differ from Docker on ``impl`` (whose
    expectations file is ``ref``), or None."""
    entry = known.lookup(nodeid, impl, ref)
    return entry.reason if entry else None


# --- one record per check ---------------------------------------------------------------------

def classify(report) -> Outcome | None:
    """The outcome a report stands for, or None for a phase that adds nothing."""
    props = dict(report.user_properties)
    if report.when == "call":
        if "strata_outcome" in props:
            return Outcome(props["strata_outcome"])
        if report.passed:
            return Outcome.PASS
        if report.skipped:
            return Outcome.SKIP
        return Outcome.FAIL
    if report.skipped:
        return Outcome.SKIP
    if report.failed:  # setup or teardown broke: the harness, not the implementation
        return Outcome.ERROR
    return None


def implementation_of(report) -> str | None:
    """The implementation a check ran on; None for a test that is not a check (the
    project's own tests, run in the same session)."""
    return dict(report.user_properties).get("strata_impl")


class ResultLog:
    """Collects one record per check (worst outcome over its phases)."""

    ORDER = ORDER

    def __init__(self):
        self.records: dict[str, dict] = {}
        self._seconds: dict[str, float] = {}
        self._project: dict[str, Outcome] = {}  # the project's own tests: node id -> outcome

    def add(self, report) -> None:
        outcome = classify(report)
        self._seconds[report.nodeid] = self._seconds.get(report.nodeid, 0.0) + getattr(report, "duration", 0.0)
        if outcome is None:
            return
        impl = implementation_of(report)
        if impl is None:  # not a check: counted apart, never a row of the matrix
            known = self._project.get(report.nodeid, Outcome.PASS)
            self._project[report.nodeid] = max(known, outcome, key=ORDER.index)
            return
        props = dict(report.user_properties)
        record = self.records.setdefault(report.nodeid, {
            "check": report.nodeid, "case": case_id(report.nodeid, impl), "implementation": impl,
            "area": Path(report.fspath).stem.removeprefix("test_"),
            "outcome": outcome.value, "seconds": 0.0, "details": "", "transcript": "",
            "expected_reason": props.get("strata_expected"), "unexpected_pass": False,
            "reason_id": props.get("strata_reason_id"), "failed_at": props.get("strata_failed_at"),
            "prefix": props.get("strata_prefix")})
        record["seconds"] = round(self._seconds[report.nodeid], 3)  # setup + call + teardown
        if ORDER.index(outcome) > ORDER.index(Outcome(record["outcome"])):
            record["outcome"] = outcome.value
        if props.get("strata_expected"):
            record["expected_reason"] = props["strata_expected"]
            record["reason_id"] = props.get("strata_reason_id")
        if props.get("strata_failed_at"):
            record["failed_at"] = props["strata_failed_at"]
        if props.get("strata_unexpected_pass"):
            record["unexpected_pass"] = True
        if report.failed or report.skipped:
            text = report.longreprtext
            if text and text not in record["details"]:
                record["details"] += text
        for name, content in report.sections:
            if name == TRANSCRIPT_SECTION and content not in record["transcript"]:
                record["transcript"] += content

    @property
    def project_tests(self) -> Counter:
        """Outcomes of the project's own tests (tests/) run in the same session."""
        return Counter(outcome.value for outcome in self._project.values())

    def attribute(self, leaks) -> None:
        """Name, on each leftover, the check that made it (by its names prefix)."""
        by_prefix = {r["prefix"]: r["check"] for r in self.records.values() if r.get("prefix")}
        for leak in leaks:
            leak.check = by_prefix.get(leak.prefix)

    def counts(self) -> dict[str, Counter]:
        by_impl: dict[str, Counter] = {}
        for record in self.records.values():
            by_impl.setdefault(record["implementation"], Counter())[record["outcome"]] += 1
        return by_impl

    def known_by_reason(self) -> dict[str, Counter]:
        """Per implementation: how many known differences each reason (its id) explains."""
        found: dict[str, Counter] = {}
        for record in self.records.values():
            if record["outcome"] == Outcome.KNOWN.value:
                reason = record.get("reason_id") or record.get("expected_reason") or ""
                found.setdefault(record["implementation"], Counter())[reason] += 1
        return dict(sorted(found.items()))

    def unexpected_passes(self) -> list[dict]:
        return sorted((r for r in self.records.values() if r["unexpected_pass"]), key=lambda r: r["check"])

    def write(self, directory: Path, run: str, leaks: list, environment: dict | None = None,
              started: str | None = None) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        checks = sorted(self.records.values(), key=lambda r: r["check"])
        path = directory / "results.json"
        path.write_text(json.dumps({
            "run": run,
            "started": started,
            "finished": now(),
            "environment": environment or host_environment(),
            "leaks": [leak.record() for leak in leaks],
            "project_tests": dict(self.project_tests),
            "checks": checks,
        }, indent=2))
        for impl in sorted({r["implementation"] for r in checks}):
            write_junit(directory / f"junit-{impl}.xml", impl, [r for r in checks if r["implementation"] == impl])
        return path


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- environment fingerprint -----------------------------------------------------------------

def host_environment() -> dict:
    """What the host says about itself; each implementation adds its own part."""
    def read(path: str) -> str:
        try:
            return " ".join(Path(path).read_text().split())
        except OSError:
            return "unknown"
    return {
        "host": socket.gethostname(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "ephemeral_port_range": read("/proc/sys/net/ipv4/ip_local_port_range"),
        "implementations": {},
    }


# --- JUnit XML, one file per implementation ------------------------------------------------------

def write_junit(path: Path, impl: str, records: list[dict]) -> None:
    counts = Counter(r["outcome"] for r in records)
    suite = ET.Element("testsuite", {
        "name": f"strata conformance: {impl}", "tests": str(len(records)),
        "failures": str(counts[Outcome.FAIL.value]), "errors": str(counts[Outcome.ERROR.value]),
        "skipped": str(counts[Outcome.SKIP.value] + counts[Outcome.KNOWN.value]),
        "time": f"{sum(r['seconds'] for r in records):.3f}"})
    for r in records:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"{impl}.{r['area']}", "name": r["case"], "time": f"{r['seconds']:.3f}"})
        outcome = Outcome(r["outcome"])
        if outcome is Outcome.FAIL:
            ET.SubElement(case, "failure", {"message": "does not behave like Docker"}).text = r["details"]
        elif outcome is Outcome.ERROR:
            ET.SubElement(case, "error", {"message": "the harness broke"}).text = r["details"]
        elif outcome is Outcome.KNOWN:
            ET.SubElement(case, "skipped", {"type": "known-difference",
                                            "message": r["expected_reason"] or ""}).text = r["details"]
        elif outcome is Outcome.SKIP:
            ET.SubElement(case, "skipped", {"message": r["details"][-500:]})
        if r["unexpected_pass"]:
            ET.SubElement(case, "properties").append(
                ET.Element("property", {"name": "unexpected_pass", "value": r["expected_reason"] or ""}))
        if r["transcript"]:
            ET.SubElement(case, "system-out").text = r["transcript"]
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
