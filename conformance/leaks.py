"""The end-of-session leak check: nothing the run created may be left behind.

Containers and images are found by the run's label (inherited by everything built
from the run's base images) and by the run's tag in repository names; processes,
mounts and directories by the run's tag in their command line or path.
"""
from __future__ import annotations

import glob
import shutil
import subprocess

from conformance.cli import Cli, Transcript
from conformance.naming import LABEL_RUN


def engine_leaks(cli: Cli, run: str) -> list[str]:
    label = f"label={LABEL_RUN}={run}"
    found = [f"container {c}" for c in
             cli.run("ps", "-a", "--filter", label, "--format", "{{.ID}} {{.Names}}").lines]
    found += [f"image {i}" for i in
              cli.run("images", "-a", "--filter", label, "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").lines]
    refs = cli.run("images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").lines
    found += [f"tag {r}" for r in refs if run in r and f"image {r}" not in found]
    return sorted(set(found))


def host_leaks(run: str) -> list[str]:
    found = []
    procs = subprocess.run(["pgrep", "-af", run], capture_output=True, text=True).stdout
    found += [f"process {line}" for line in procs.splitlines() if "pgrep" not in line]
    with open("/proc/self/mounts") as mounts:
        found += [f"mount {line.split()[1]}" for line in mounts if run in line]
    found += [f"directory {d}" for d in glob.glob(f"/tmp/{run}*")]
    return found


def clean_engine(cli: Cli, run: str) -> None:
    label = f"label={LABEL_RUN}={run}"
    containers = cli.run("ps", "-a", "-q", "--filter", label).lines
    if containers:
        cli.run("rm", "-f", *containers)
    for _ in range(5):
        images = cli.run("images", "-a", "-q", "--filter", label).lines
        refs = [r.split()[1] for r in cli.run("images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").lines
                if run in r]
        if not images and not refs:
            break
        cli.run("rmi", "-f", *dict.fromkeys(images + refs))


def clean_host(run: str) -> None:
    subprocess.run(["pkill", "-f", run], capture_output=True)
    for d in glob.glob(f"/tmp/{run}*"):
        shutil.rmtree(d, ignore_errors=True)


def check(implementations, host_for, run: str, before_host=None) -> list[str]:
    """Leaks of this run on every implementation and on the host; cleans them up.

    ``before_host`` runs between the two: implementations set up for the run (a store of
    its own under /tmp/<run>-..., a VM) are taken down there, so what they leave is a host
    leak; it returns what the taking down itself found left (a VM's libvirt domain)."""
    leaks = []
    for impl in implementations:
        cli = Cli(impl.for_cleanup(), host_for(impl), Transcript())
        found = engine_leaks(cli, run)
        if found:
            leaks += [f"{impl.name}: {item}" for item in found]
            clean_engine(cli, run)
    found = list(before_host() or []) if before_host is not None else []
    found += host_leaks(run)
    if found:
        leaks += [f"host: {item}" for item in found]
        clean_host(run)
    return leaks
