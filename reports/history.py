"""A history directory of runs: one subdirectory per run, named by its UTC start time
(``20261127T031500Z``), holding what the suite wrote there with ``--report-dir``
(results.json, junit-<impl>.xml) and, after a rerun of the failures, ``rerun/``.
"""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

RUN_NAME = re.compile(r"^\d{8}T\d{6}Z$")
RESULTS = "results.json"


@dataclass
class Run:
    name: str                   # the history entry (UTC start time)
    path: Path
    data: dict
    records: dict[tuple[str, str], dict] = field(default_factory=dict)  # (impl, case) -> record

    @property
    def implementations(self) -> list[str]:
        return sorted({impl for impl, _ in self.records})

    @property
    def environment(self) -> dict:
        return self.data.get("environment", {})

    @property
    def leaks(self) -> list[str]:
        """What the run left behind, each naming the check that made it where known
        (older runs wrote plain strings)."""
        return [leak if isinstance(leak, str) else leak_text(leak) for leak in self.data.get("leaks", [])]

    @property
    def project_tests(self) -> dict[str, int]:
        """Outcome counts of the project's own tests run in the same session, if any."""
        return self.data.get("project_tests", {})


def leak_text(leak: dict) -> str:
    made = leak.get("check") or leak.get("prefix")
    return f"{leak['where']}: {leak['kind']} {leak['object']}" + (f" (made by {made})" if made else "")


def load_run(path: Path) -> Run:
    data = json.loads((path / RESULTS).read_text())
    run = Run(path.name, path, data)
    for record in data.get("checks", []):
        impl = record.get("implementation")
        if impl in (None, "-"):  # the project's own tests, as older runs recorded them
            continue
        case = record.get("case") or record["check"].removeprefix("conformance/")
        run.records[(impl, case)] = record
    return run


def run_dirs(history: Path) -> list[Path]:
    """The runs in a history directory, oldest first (names sort by time)."""
    if not history.is_dir():
        return []
    return sorted(p for p in history.iterdir()
                  if p.is_dir() and RUN_NAME.match(p.name) and (p / RESULTS).is_file())


def load(history: Path, last: int | None = None) -> list[Run]:
    dirs = run_dirs(history)
    if last is not None:
        dirs = dirs[-last:]
    return [load_run(p) for p in dirs]


def prune(history: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` runs; returns what was removed."""
    dirs = run_dirs(history)
    gone = dirs[:-keep] if keep > 0 else dirs
    for path in gone:
        shutil.rmtree(path)
    return gone
