"""Outcomes of checks, kept apart: pass < fail (non-conformance) < error (the harness
broke); skip = unsupported. Written as JSON for the reports."""
from __future__ import annotations

import enum
import json
import platform
from collections import Counter
from pathlib import Path


class Outcome(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"


def classify(report) -> Outcome | None:
    """The outcome a report stands for, or None for a phase that adds nothing."""
    if report.when == "call":
        if report.passed:
            return Outcome.PASS
        if report.skipped:
            return Outcome.SKIP
        return Outcome(dict(report.user_properties).get("strata_outcome", Outcome.FAIL.value))
    if report.skipped:
        return Outcome.SKIP
    if report.failed:  # setup or teardown broke: the harness, not the implementation
        return Outcome.ERROR
    return None


def implementation_of(report) -> str:
    return dict(report.user_properties).get("strata_impl", "-")


class ResultLog:
    """Collects one record per check (worst outcome over its phases)."""

    ORDER = [Outcome.PASS, Outcome.SKIP, Outcome.FAIL, Outcome.ERROR]

    def __init__(self):
        self.records: dict[str, dict] = {}

    def add(self, report) -> None:
        outcome = classify(report)
        if outcome is None:
            return
        record = self.records.setdefault(report.nodeid, {
            "check": report.nodeid, "implementation": implementation_of(report),
            "area": Path(report.fspath).stem.removeprefix("test_"),
            "outcome": outcome.value, "seconds": 0.0, "details": ""})
        record["seconds"] += getattr(report, "duration", 0.0)
        if self.ORDER.index(outcome) > self.ORDER.index(Outcome(record["outcome"])):
            record["outcome"] = outcome.value
        if report.failed or report.skipped:
            record["details"] += report.longreprtext

    def counts(self) -> dict[str, Counter]:
        by_impl: dict[str, Counter] = {}
        for record in self.records.values():
            by_impl.setdefault(record["implementation"], Counter())[record["outcome"]] += 1
        return by_impl

    def write(self, directory: Path, run: str, leaks: list[str]) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "results.json"
        path.write_text(json.dumps({
            "run": run,
            "environment": {"kernel": platform.release(), "python": platform.python_version()},
            "leaks": leaks,
            "checks": sorted(self.records.values(), key=lambda r: r["check"]),
        }, indent=2))
        return path
