"""`python -m reference_impl.api --root DIR --socket PATH [--time SECONDS]`: the Engine API
service (what `strata system service` becomes)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reference_impl.api.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="strata system service")
    parser.add_argument("--root", required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--time", type=float, default=0)
    args = parser.parse_args(argv)

    def ready(where) -> None:
        print(f"strata: serving the Engine API on unix://{where}", file=sys.stderr, flush=True)
    return serve(Path(args.root), Path(args.socket), args.time, ready)


if __name__ == "__main__":
    sys.exit(main())
