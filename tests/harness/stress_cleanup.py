#!/usr/bin/env python3
"""Stress the suite's per-check cleanup alone: many checks' worth of base imports, builds,
containers and removals at once on one implementation, then prove nothing is left.

    .venv/bin/python tests/harness/stress_cleanup.py [--impl podman] [--cycles 200] [--workers 4]

Each cycle is what a check's fixtures do (conformance/fixtures.py): import a base of its
own under the storage lock, run a container on it, tag it, build two steps on it, then
`remove_check_objects`. Workers are threads, each a check at a time, like xdist workers.
The run's own podman store (Implementation.prepare) is reset at the end, as after a suite run.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from conformance import impls  # noqa: E402
from conformance.cli import Cli, HarnessError, Transcript  # noqa: E402
from conformance.fixtures import host_for, import_base, remove_check_objects, storage_lock, write_busybox_rootfs  # noqa: E402
from conformance.leaks import engine_leaks  # noqa: E402
from conformance.naming import Names, run_tag  # noqa: E402


@dataclass
class StressResult:
    cycles: int
    seconds: float
    cleanup_errors: list[str] = field(default_factory=list)  # what remove_check_objects raised
    refusals: int = 0        # engine commands that failed along the way (podman's own races)
    refusal_words: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)       # the leak check's findings at the end


def _cycle(impl, rootfs: Path, names: Names, context: Path, result: StressResult, lock) -> None:
    transcript = Transcript()
    storage = storage_lock(impl, rootfs)
    cli = Cli(impl, host_for(impl), transcript, storage=storage)
    made: list[str] = []
    try:
        with storage.exclusive():
            base = import_base(cli, rootfs, names)
        made.append(base.id)
        cli.run("run", "--name", names("ctr"), base.ref, "true")
        cli.run("tag", base.ref, f"{names('tagged')}:x")
        (context / "Dockerfile").write_text(f"FROM {base.ref}\nRUN echo {names.prefix} > /f\nRUN echo b >> /f\n")
        cli.run("build", *impl.build_flags, "-t", names("built"), str(context))
    except AssertionError as exc:  # the import itself was refused: still clean up below
        with lock:
            result.refusal_words.append(str(exc)[:300])
    try:
        remove_check_objects(cli, names.prefix, storage, made)
    except HarnessError as exc:
        with lock:
            result.cleanup_errors.append(str(exc))
    failed = [r for r in transcript.results if r.rc != 0]
    with lock:
        result.refusals += len(failed)
        result.refusal_words += [r.stderr.strip()[:200] for r in failed[:2]]


def stress(impl_name: str = "podman", cycles: int = 200, workers: int = 4) -> StressResult:
    run = run_tag(uuid.uuid4().hex)
    impl = impls.load(impl_name).prepare(run)
    missing = impl.missing_reason()
    if missing:
        impl.finish()
        raise HarnessError(f"{impl_name}: {missing}")
    result = StressResult(cycles, 0.0)
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix=f"{run}-stress-") as tmp:
        rootfs = Path(tmp) / "busybox-rootfs.tar"
        write_busybox_rootfs(rootfs)

        def worker(n: int) -> None:
            context = Path(tmp) / f"ctx-{n}"
            context.mkdir()
            for _ in range(cycles // workers + (n < cycles % workers)):
                _cycle(impl, rootfs, Names(run, f"gw{n}"), context, result, lock)

        start = time.monotonic()
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        result.seconds = time.monotonic() - start
    try:
        cli = Cli(impl.for_cleanup(), host_for(impl), Transcript())
        result.leftovers = [leak.text() for leak in engine_leaks(cli, run, impl.name)]
    finally:
        impl.finish()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", default="podman")
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    result = stress(args.impl, args.cycles, args.workers)
    print(f"{args.impl}: {result.cycles} cycles over {args.workers} workers in {result.seconds:.1f} s; "
          f"{result.refusals} engine commands refused along the way; "
          f"{len(result.cleanup_errors)} cleanup errors; {len(result.leftovers)} objects left")
    for words in dict.fromkeys(result.refusal_words):
        print(f"  refused: {words}")
    for text in result.cleanup_errors + result.leftovers:
        print(f"  LEFT: {text}")
    return 1 if result.cleanup_errors or result.leftovers else 0


if __name__ == "__main__":
    sys.exit(main())
