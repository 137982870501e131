"""What a history of runs says: the matrix, counts, changes, flaky checks, pass rates.

A check is keyed by (implementation, case): the case is its id without the
implementation (``test_rmi.py::test_x``, ``test_login.py::test_y[docker-registry]``).
Outcomes: pass, known difference, fail, error, skip (conformance/results.py).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from reports.history import Run

OUTCOMES = ["pass", "known difference", "fail", "error", "skip"]
BAD = {"fail", "error"}


def is_bad(record: dict | None) -> bool:
    return record is not None and record["outcome"] in BAD


def passed_on_rerun(record: dict | None) -> bool:
    return record is not None and record.get("rerun") == "pass"


# --- one run ------------------------------------------------------------------------------------

@dataclass
class Matrix:
    implementations: list[str]
    # area -> case -> impl -> record (None where that implementation did not run the case)
    areas: dict[str, dict[str, dict[str, dict | None]]]


def matrix(run: Run) -> Matrix:
    impls = run.implementations
    areas: dict[str, dict[str, dict[str, dict | None]]] = {}
    for (impl, case), record in sorted(run.records.items(), key=lambda kv: (kv[1]["area"], kv[0][1], kv[0][0])):
        row = areas.setdefault(record["area"], {}).setdefault(case, {i: None for i in impls})
        row[impl] = record
    return Matrix(impls, dict(sorted(areas.items())))


def counts(run: Run) -> dict[str, Counter]:
    found: dict[str, Counter] = {impl: Counter({o: 0 for o in OUTCOMES}) for impl in run.implementations}
    for (impl, _), record in run.records.items():
        found[impl][record["outcome"]] += 1
        if record.get("unexpected_pass"):
            found[impl]["unexpected pass"] += 1
        if passed_on_rerun(record):
            found[impl]["passed on rerun"] += 1
    return found


def area_counts(run: Run) -> dict[str, dict[str, Counter]]:
    """Per area (check file), per implementation: the outcome counts (the summary by area)."""
    found: dict[str, dict[str, Counter]] = {}
    for (impl, _), record in sorted(run.records.items()):
        row = found.setdefault(record["area"], {i: Counter({o: 0 for o in OUTCOMES}) for i in run.implementations})
        row[impl][record["outcome"]] += 1
    return dict(sorted(found.items()))


@dataclass
class Reason:
    key: str            # its id in the expectations file's [reasons], else its words
    text: str
    cases: list[str] = field(default_factory=list)   # the checks it explains in this run


def known_by_reason(run: Run) -> dict[str, list[Reason]]:
    """Per implementation, its known differences grouped by reason, the most common first."""
    found: dict[str, dict[str, Reason]] = {}
    for (impl, case), record in sorted(run.records.items()):
        if record["outcome"] != "known difference":
            continue
        text = record.get("expected_reason") or ""
        key = record.get("reason_id") or text
        found.setdefault(impl, {}).setdefault(key, Reason(key, text)).cases.append(case)
    return {impl: sorted(reasons.values(), key=lambda r: (-len(r.cases), r.key))
            for impl, reasons in sorted(found.items())}


def pass_rate(run: Run, impl: str) -> float | None:
    """Passes over the checks that ran (skips left out); a known difference is not a pass."""
    ran = [r for (i, _), r in run.records.items() if i == impl and r["outcome"] != "skip"]
    if not ran:
        return None
    return sum(r["outcome"] == "pass" for r in ran) / len(ran)


# --- two runs -----------------------------------------------------------------------------------

@dataclass
class Change:
    impl: str
    case: str
    before: str | None  # outcome in the previous run (None: the check did not exist)
    after: str | None
    record: dict | None = None  # the latest record, if any
    flaky: bool = False         # passed on rerun: reported, but not a regression


@dataclass
class Changes:
    previous: str | None  # name of the previous run
    new_failures: list[Change] = field(default_factory=list)
    fixes: list[Change] = field(default_factory=list)
    other: list[Change] = field(default_factory=list)  # e.g. fail -> known difference, pass -> skip
    new_checks: list[Change] = field(default_factory=list)
    removed_checks: list[Change] = field(default_factory=list)

    @property
    def regressions(self) -> list[Change]:
        """New failures that did not pass on rerun: what makes the nightly exit non-zero."""
        return [c for c in self.new_failures if not c.flaky]


def changes(previous: Run | None, latest: Run) -> Changes:
    found = Changes(previous.name if previous else None)
    before = previous.records if previous else {}
    for key in sorted(set(before) | set(latest.records)):
        impl, case = key
        old, new = before.get(key), latest.records.get(key)
        change = Change(impl, case, old and old["outcome"], new and new["outcome"], new,
                        flaky=passed_on_rerun(new))
        if new is None:
            found.removed_checks.append(change)
            continue
        if old is None and previous is not None:
            found.new_checks.append(change)
        if is_bad(new) and not is_bad(old):
            found.new_failures.append(change)
        elif is_bad(old) and new["outcome"] == "pass":
            found.fixes.append(change)
        elif old is not None and old["outcome"] != new["outcome"]:
            found.other.append(change)
    return found


# --- many runs ----------------------------------------------------------------------------------

@dataclass
class Flaky:
    impl: str
    case: str
    outcomes: list[str | None]  # oldest first, one per run (None: not run)
    flips: int
    reruns_passed: int


def flaky(runs: list[Run]) -> list[Flaky]:
    """Checks whose outcome flipped between pass and fail/error more than once over the
    runs, or that passed when the nightly reran them."""
    keys = sorted({key for run in runs for key in run.records})
    found = []
    for key in keys:
        records = [run.records.get(key) for run in runs]
        outcomes = [r["outcome"] if r else None for r in records]
        states = [("bad" if o in BAD else "pass") for o in outcomes if o in BAD or o == "pass"]
        flips = sum(a != b for a, b in zip(states, states[1:]))
        reruns = sum(passed_on_rerun(r) for r in records)
        if flips >= 2 or reruns:
            found.append(Flaky(key[0], key[1], outcomes, flips, reruns))
    return found


def trend(runs: list[Run]) -> dict[str, list[float | None]]:
    """Pass rate per implementation, one value per run (oldest first)."""
    impls = sorted({impl for run in runs for impl in run.implementations})
    return {impl: [pass_rate(run, impl) for run in runs] for impl in impls}
