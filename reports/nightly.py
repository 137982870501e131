"""The nightly run: the suite on every implementation present, failures rerun once,
the newest runs kept, the report rendered; non-zero on a regression.

    python -m reports.nightly [--history DIR] [--out DIR] [--keep N] [--workers N]
                              [--no-rerun] [--paths PATH...] [-- PYTEST ARGS...]

Exit status: 0 no regression; 1 a regression (a check that fails or errs now and did
not in the previous run — a new check that fails counts —, unless it passed when rerun,
which makes it flaky, or the run left objects behind); 2 the run itself broke (pytest
stopped with a usage or internal error, or wrote no results).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from reports import analysis, history
from reports.render import render

ROOT = Path(__file__).resolve().parents[1]


def pytest_run(args: list[str], report_dir: Path, workers: str) -> int:
    cmd = [sys.executable, "-m", "pytest", "-n", workers, "--report-dir", str(report_dir), *args]
    print("nightly:", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


def rerun_failures(run_dir: Path, extra: list[str], workers: str) -> int:
    """Run the failed and errored checks once more; their records get ``rerun``."""
    path = run_dir / history.RESULTS
    data = json.loads(path.read_text())
    failed = [r for r in data["checks"] if r["outcome"] in analysis.BAD]
    if not failed:
        return 0
    rerun_dir = run_dir / "rerun"
    n = str(min(len(failed), int(workers))) if workers.isdigit() else workers
    pytest_run([*extra, *[r["check"] for r in failed]], rerun_dir, n if len(failed) > 1 else "0")
    again = {}
    if (rerun_dir / history.RESULTS).exists():
        again = {r["check"]: r["outcome"] for r in json.loads((rerun_dir / history.RESULTS).read_text())["checks"]}
    for record in failed:
        record["rerun"] = again.get(record["check"], "not run")
    path.write_text(json.dumps(data, indent=2))
    return sum(record["rerun"] == "pass" for record in failed)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1:]
    parser = argparse.ArgumentParser(prog="python -m reports.nightly", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=Path, default=ROOT / "reports" / "history",
                        help="directory of runs, one <UTC time>/ each (default reports/history)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "out" / "report",
                        help="where the HTML report goes (default reports/out/report)")
    parser.add_argument("--keep", type=int, default=14, help="runs kept in the history (default 14)")
    parser.add_argument("--workers", default="auto", help="pytest-xdist workers (default auto)")
    parser.add_argument("--no-rerun", action="store_true", help="do not rerun failures")
    parser.add_argument("--paths", nargs="+", default=["conformance/"],
                        help="what pytest collects (default conformance/)")
    args = parser.parse_args(argv)

    name = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_dir = args.history / name
    run_dir.mkdir(parents=True)
    started = time.monotonic()
    code = pytest_run([*args.paths, *extra], run_dir, args.workers)
    if not (run_dir / history.RESULTS).exists():
        print(f"nightly: the suite wrote no results (pytest exit {code})", file=sys.stderr)
        return 2
    if not args.no_rerun:
        passed = rerun_failures(run_dir, extra, args.workers)
        if passed:
            print(f"nightly: {passed} failed check(s) passed on rerun (flaky)")
    history.prune(args.history, args.keep)
    index = render(args.history, args.out, last=args.keep)
    runs = history.load(args.history, last=2)
    latest = runs[-1]
    changes = analysis.changes(runs[-2] if len(runs) > 1 else None, latest)
    print(f"nightly: {name} in {time.monotonic() - started:.0f} s; report {index}")
    for change in changes.new_failures:
        print(f"  {'flaky' if change.flaky else 'REGRESSION'}: {change.case} on {change.impl}: "
              f"{change.before or 'new check'} -> {change.after}")
    for change in changes.fixes:
        print(f"  fixed: {change.case} on {change.impl}")
    if latest.leaks:
        print(f"  LEAKS: {', '.join(latest.leaks)}")
    if code not in (0, 1):
        return 2
    return 1 if changes.regressions or latest.leaks else 0


if __name__ == "__main__":
    sys.exit(main())
