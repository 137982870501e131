"""The end-of-session leak check: nothing the run created may be left behind.

Containers, networks and images are found by the run's label (inherited by everything built
from the run's base images) and by the run's tag in repository and volume names; processes,
mounts and directories by the run's tag in their command line or path. Each leftover
names the check that made it, from its ``strata.check`` label or its name
(``strata-<run>-<worker>-<n>-<what>``), so the report can say which check lost it.
"""
from __future__ import annotations

import glob
import re
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass

from conformance.cli import Cli, Transcript
from conformance.naming import LABEL_CHECK, LABEL_RUN

_PREFIX = re.compile(r"(strata-[0-9a-f]{8}-[a-z0-9]+-\d+)")
LISTING_ATTEMPTS = 3


@dataclass
class Leak:
    where: str               # an implementation's name, or "host"
    kind: str                # container, image, tag, process, mount, directory, listing
    object: str              # id and name, path, command line; for "listing", the engine's words
    prefix: str | None = None  # the names prefix of the check that made it
    check: str | None = None   # that check's node id, where the run knows it

    def text(self) -> str:
        made = f" (made by {self.check or self.prefix})" if self.check or self.prefix else ""
        return f"{self.where}: {self.kind} {self.object}{made}"

    def record(self) -> dict:
        return asdict(self)


def _lines(cli: Cli, *args) -> list[str] | None:
    """A listing's lines; None when the engine could not list (retried a few times: a
    leak check that cannot see must not report "nothing left")."""
    for attempt in range(LISTING_ATTEMPTS):
        result = cli.run(*args)
        if result.rc == 0:
            return result.lines
        time.sleep(0.5 * (attempt + 1))
    return None


def _prefix(cli: Cli, kind: str, object_id: str, name: str) -> str | None:
    labels = ".Labels" if kind in ("network", "volume") else ".Config.Labels"  # they have no Config
    label = cli.run(kind, "inspect", "--format", f'{{{{index {labels} "{LABEL_CHECK}"}}}}', object_id)
    text = label.stdout.strip() if label.rc == 0 else ""
    found = _PREFIX.search(text) or _PREFIX.search(name)
    return found.group(1) if found else None


def engine_leaks(cli: Cli, run: str, where: str) -> list[Leak]:
    label = f"label={LABEL_RUN}={run}"
    queries = {
        "container": ("container", ("ps", "-a", "--filter", label, "--format", "{{.ID}} {{.Names}}")),
        "image": ("image", ("images", "-a", "--filter", label, "--format", "{{.ID}} {{.Repository}}:{{.Tag}}")),
        "tag": ("image", ("images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}")),
        "network": ("network", ("network", "ls", "--filter", label, "--format", "{{.ID}} {{.Name}}")),
        # volumes carry the check's name, not the run's label (a label would show in their inspect)
        "volume": ("volume", ("volume", "ls", "--format", "{{.Name}} {{.Name}}")),
    }
    found: list[Leak] = []
    seen: set[str] = set()
    for kind, (inspect_kind, args) in queries.items():
        lines = _lines(cli, *args)
        if lines is None:
            found.append(Leak(where, "listing", f"`{' '.join(args[:2])}` failed {LISTING_ATTEMPTS} times: "
                                                f"{cli.transcript.results[-1].stderr.strip()[:500]}"))
            continue
        for line in lines:
            if kind in ("tag", "volume") and (run not in line or line in seen):
                continue
            seen.add(line)
            object_id, _, name = line.partition(" ")
            found.append(Leak(where, kind, line, _prefix(cli, inspect_kind, object_id, name)))
    return found


def host_leaks(run: str) -> list[Leak]:
    found = []
    procs = subprocess.run(["pgrep", "-af", run], capture_output=True, text=True).stdout
    found += [Leak("host", "process", line) for line in procs.splitlines() if "pgrep" not in line]
    with open("/proc/self/mounts") as mounts:
        found += [Leak("host", "mount", line.split()[1]) for line in mounts if run in line]
    found += [Leak("host", "directory", d) for d in glob.glob(f"/tmp/{run}*")]
    for leak in found:
        match = _PREFIX.search(leak.object)
        leak.prefix = match.group(1) if match else None
    return found


def clean_engine(cli: Cli, run: str) -> None:
    label = f"label={LABEL_RUN}={run}"
    containers = cli.run("ps", "-a", "-q", "--filter", label).lines
    if containers:
        cli.run("rm", "-f", "-v", *containers)
    volumes = [v for v in cli.run("volume", "ls", "-q").lines if run in v]
    if volumes:
        cli.run("volume", "rm", "-f", *volumes)
    networks = cli.run("network", "ls", "-q", "--filter", label).lines
    if networks:
        cli.run("network", "rm", *networks)
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


def check(implementations, host_for, run: str, before_host=None) -> list[Leak]:
    """Leaks of this run on every implementation and on the host; cleans them up.

    ``before_host`` runs between the two: implementations set up for the run (a store of
    its own under /tmp/<run>-..., a VM) are taken down there, so what they leave is a host
    leak; it returns what the taking down itself found left (a VM's libvirt domain)."""
    leaks: list[Leak] = []
    for impl in implementations:
        impl.ready()  # a lapsed service must not hide what is left in its store
        cli = Cli(impl.for_cleanup(), host_for(impl), Transcript())
        found = engine_leaks(cli, run, impl.name)
        if found:
            leaks += found
            clean_engine(cli, run)
    found = [Leak("host", "leftover", item) for item in (before_host() or [])] if before_host is not None else []
    found += host_leaks(run)
    if found:
        leaks += found
        clean_host(run)
    return leaks
