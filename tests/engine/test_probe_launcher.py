"""Health probes through the probe launcher (reference_impl/lifecycle/probe_launcher.py): a
process confined once per run of the container, which starts every probe. It must die with
the container, recover from a pause, reap what it abandons, stay out of `stats`' PIDs, and
start probes exactly as the per-probe fork (kept for custom seccomp profiles) does."""
import json
import os
import time
from pathlib import Path

import pytest

from reference_impl.confinement import cgroups
from reference_impl.confinement.seccomp import default_profile_text
from reference_impl.ownership import process_alive

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")

AS_AN_EXEC = "id -u; hostname; grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs|SigIgn)' /proc/self/status; yes | head -1"


def run_checked(strata, name: str, *options: str, command=("sleep", "300")) -> str:
    started = strata("run", "-d", "--name", name, "--health-interval", "1s", *options, "base", *command)
    assert started.returncode == 0, started.stderr
    return started.stdout.strip()


def health(strata, name: str) -> dict:
    return strata.inspect(name)["State"]["Health"]


def wait_for(check, seconds: float = 15):
    deadline = time.monotonic() + seconds
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def children(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]


def launcher_of(strata, cid: str) -> int:
    """The health monitor is the shim's last child; the launcher is the monitor's."""
    shim = json.loads((strata.root / "containers" / cid / "state.json").read_text())["ShimPid"]
    monitor = children(shim)[-1]
    found = wait_for(lambda: children(monitor))
    assert len(found) == 1, found
    return found[0]


def test_the_launcher_dies_with_the_container_and_its_groups_go(strata):
    cid = run_checked(strata, "ends", "--health-cmd", "true")
    assert wait_for(lambda: health(strata, "ends")["Status"] == "healthy")
    launcher = launcher_of(strata, cid)
    assert Path(f"/proc/{launcher}/ns/pid").resolve() != Path(
        f"/proc/{strata.inspect('ends')['State']['Pid']}/ns/pid").resolve()
    assert launcher in cgroups.members(cid)  # its probes are born in the groups
    stopped = strata("stop", "-t", "1", "ends")
    assert stopped.returncode == 0, stopped.stderr
    assert wait_for(lambda: not process_alive(launcher), 5), "the launcher outlived its container"
    assert wait_for(lambda: not any(group.exists() for group in cgroups.paths(cid)), 5)


def test_a_probe_is_started_alike_with_or_without_the_launcher(strata, tmp_path):
    """A custom seccomp profile keeps the per-probe fork: both give the same probe."""
    profile = tmp_path / "profile.json"
    profile.write_text(default_profile_text())
    outputs = {}
    for name, options in (("launched", ()), ("forked", ("--security-opt", f"seccomp={profile}"))):
        run_checked(strata, name, "-u", "1000:1000", "--health-cmd", AS_AN_EXEC, *options)
        assert wait_for(lambda: health(strata, name)["Log"]), health(strata, name)
        outputs[name] = health(strata, name)["Log"][0]["Output"].split("\n")
        assert outputs[name][0] == "1000" and outputs[name][-2] == "y", outputs[name]
    hostname = strata.inspect("launched")["Config"]["Hostname"]
    assert outputs["launched"][1] == hostname
    assert outputs["launched"][2:] == outputs["forked"][2:]
    assert "Seccomp:\t2" in outputs["launched"] and "SigIgn:\t0000000000000000" in outputs["launched"]


def test_a_probe_caught_by_a_pause_is_discarded_and_the_next_run_is_healthy(strata):
    """The launcher freezes with the container: the monitor gives it up after the probe's
    timeout, records nothing (the container is paused: unhealthy, as dockerd), and the
    first probe after unpause runs from a new launcher."""
    cid = run_checked(strata, "frozen", "--health-cmd", "sleep 2", "--health-timeout", "3s")
    assert wait_for(lambda: health(strata, "frozen")["Status"] == "healthy", 20)
    launcher = launcher_of(strata, cid)
    assert wait_for(lambda: children(launcher), 10), "no probe started"
    assert strata("pause", "frozen").returncode == 0
    caught = health(strata, "frozen")
    assert caught["Status"] == "unhealthy"
    time.sleep(6)  # the monitor waits 3 s + its grace for the frozen launcher
    assert health(strata, "frozen") == caught
    assert strata("unpause", "frozen").returncode == 0
    assert wait_for(lambda: not process_alive(launcher), 5), "the frozen launcher was not given up"
    assert wait_for(lambda: health(strata, "frozen")["Status"] == "healthy", 20), health(strata, "frozen")
    assert launcher_of(strata, cid) != launcher


def test_timed_out_probes_are_reaped(strata):
    cid = run_checked(strata, "slow", "--health-cmd", "sleep 1.5", "--health-timeout", "0.5s")
    assert wait_for(lambda: len(health(strata, "slow")["Log"]) >= 4, 20), health(strata, "slow")
    launcher = launcher_of(strata, cid)
    states = [Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] for pid in children(launcher)]
    assert states.count("Z") <= 1, states  # the last one abandoned may have just ended


def test_stats_counts_the_containers_processes_not_the_launcher(strata):
    run_checked(strata, "counted", "--health-cmd", "true")
    assert wait_for(lambda: health(strata, "counted")["Status"] == "healthy")
    readings = []
    for _ in range(5):
        result = strata("stats", "--no-stream", "--format", "{{.PIDs}}", "counted")
        assert result.returncode == 0, result.stderr
        readings.append(result.stdout.strip())
    assert readings.count("1") >= 3, readings  # a reading may fall inside a probe
