#!/usr/bin/env python3
"""`run --rm BASE true` on strata and on docker, side by side, interleaved.

    .venv/bin/python bench/run_latency.py [-n 30]

Prints each engine's latency and strata/docker (goals: <= 0.5 with confinement on, issue 15;
<= 0.3, issue 14), with the host's load average before and after.
"""
import argparse
import statistics

from common import ENGINES, BaseImages, load_average, summary, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=30, help="runs per engine (default 30)")
    args = parser.parse_args()
    samples = {name: [] for name in ENGINES}
    print(f"before: {load_average()}")
    with BaseImages(ENGINES) as ref:
        for argv in ENGINES.values():  # warm-up
            timed([*argv, "run", "--rm", ref, "true"])
        for _ in range(args.n):
            for name, argv in ENGINES.items():
                samples[name].append(timed([*argv, "run", "--rm", ref, "true"]))
    for name, values in samples.items():
        print(f"{name:7s} run --rm BASE true: {summary(values)}")
    ratio = statistics.median(samples["strata"]) / statistics.median(samples["docker"])
    print(f"strata/docker (median): {ratio:.2f}")
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
