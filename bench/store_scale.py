#!/usr/bin/env python3
"""Per-operation cost against the number of images in the store (issue 16).

    .venv/bin/python bench/store_scale.py [--images 2000] [-n 7]

On a store of its own: a one-step build (`FROM base` + a new LABEL each time: a cache miss, after the cache lookup) and `images`,
first with only the base image, then with --images more images (children of the base,
each tagged, made in-process through the store so that seeding takes seconds). Prints
the medians and the ratio full/empty (goal: <= 1.5).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import STRATA, timed

from conformance.fixtures import write_busybox_rootfs
from reference_impl import images, refs
from reference_impl.store import Store


def seed(root: Path, base_id: str, count: int) -> None:
    store = Store(root)
    base = store.images.get(base_id)
    with store.lock():
        for i in range(count):
            config = json.loads(base.raw)
            config["config"] = {**(config.get("config") or {}), "Labels": {"seed": str(i)}}
            config["history"] = [*config.get("history", []), images.history_entry(
                config["created"], f"/bin/sh -c #(nop)  LABEL seed={i}", empty_layer=True)]
            image_id = store.images.put_image(config, parent=base_id)
            images.tag(store, image_id, refs.parse_tagged(f"seed{i}:latest"))


def measure(env: dict, context: Path, runs: int) -> dict[str, float]:
    build, listing = [], []
    for i in range(runs):
        (context / "Dockerfile").write_text(f"FROM base\nLABEL run={i}-{len(build)}\n")
        build.append(timed([STRATA, "build", "-q", str(context)], env=env))
        listing.append(timed([STRATA, "images"], env=env))
    return {"build": statistics.median(build), "images": statistics.median(listing)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("-n", type=int, default=7, help="runs of each operation (median)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="strata-store-scale-"))
    try:
        root = work / "store"
        env = {**os.environ, "STRATA_ROOT": str(root)}
        write_busybox_rootfs(work / "rootfs.tar")
        base_id = timed_output([STRATA, "import", str(work / "rootfs.tar"), "base:latest"], env)
        context = work / "context"
        context.mkdir()
        empty = measure(env, context, args.n)
        seed(root, base_id, args.images)
        full = measure(env, context, args.n)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for op in ("build", "images"):
        print(f"{op:6s}: {empty[op]:.3f} s with 1 image, {full[op]:.3f} s with {args.images + 1}: "
              f"ratio {full[op] / empty[op]:.2f}")


def timed_output(argv: list[str], env: dict) -> str:
    return subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
