"""python -m reports render HISTORY_DIR OUT_DIR [--last N]"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reports.render import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)
    r = verbs.add_parser("render", help="render the HTML report of a history directory")
    r.add_argument("history", type=Path, help="directory of runs: <UTC time>/results.json")
    r.add_argument("out", type=Path, help="where index.html and checks/ go")
    r.add_argument("--last", type=int, default=14, help="runs shown in the history (default 14)")
    args = parser.parse_args(argv)
    index = render(args.history, args.out, last=args.last)
    print(f"report: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
