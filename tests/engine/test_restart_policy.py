"""Restart policies are the shim's (issue 20): a killed shim of an `always` container is
reported and the container stays (nobody restarts it: there is no daemon, documented in
reference_impl/lifecycle/restart.py); and restart policy decisions and back-off."""
import json
import os
import signal
import time

from reference_impl.lifecycle.restart import FIRST_DELAY, RestartPolicy, delay
from reference_impl.ownership import process_alive


def test_a_killed_shim_of_an_always_container_is_reported_and_the_container_kept(strata):
    started = strata("run", "-d", "--name", "keeper", "--restart", "always", "base", "sleep", "300")
    assert started.returncode == 0, started.stderr
    cid = started.stdout.strip()
    state = json.loads((strata.root / "containers" / cid / "state.json").read_text())
    os.kill(state["ShimPid"], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while process_alive(state["ShimPid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    info = strata.inspect("keeper")
    assert (info["State"]["Status"], info["State"]["ExitCode"]) == ("exited", 137)
    assert "shim" in info["State"]["Error"]
    assert info["HostConfig"]["RestartPolicy"] == {"Name": "always", "MaximumRetryCount": 0}
    deadline = time.monotonic() + 5
    while process_alive(state["Pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(state["Pid"])
    # not lost: listed, and a start runs it again under its policy
    assert strata("ps", "-aq", "--no-trunc").stdout.split() == [cid]
    assert strata("start", "keeper").returncode == 0
    assert strata.inspect("keeper")["State"]["Running"] is True


def test_stop_during_the_back_off_ends_the_policy(strata):
    started = strata("run", "-d", "--name", "looper", "--restart", "always", "base", "sh", "-c", "exit 1")
    assert started.returncode == 0, started.stderr
    deadline = time.monotonic() + 10
    while strata.inspect("looper")["RestartCount"] < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert strata.inspect("looper")["RestartCount"] >= 2
    assert strata("stop", "-t", "1", "looper").returncode == 0
    count = strata.inspect("looper")["RestartCount"]
    time.sleep(1.5)
    info = strata.inspect("looper")
    assert info["State"]["Status"] == "exited" and info["RestartCount"] == count


def test_policy_decisions():
    assert not RestartPolicy("no").restarts(1, 0, False)
    assert RestartPolicy("always").restarts(0, 5, False)
    assert not RestartPolicy("always").restarts(0, 5, True)
    assert RestartPolicy("unless-stopped").restarts(0, 0, False)
    assert RestartPolicy("on-failure", 2).restarts(1, 1, False)
    assert not RestartPolicy("on-failure", 2).restarts(1, 2, False)
    assert not RestartPolicy("on-failure").restarts(0, 0, False)
    assert RestartPolicy("on-failure").restarts(3, 100, False)


def test_back_off_doubles_and_resets_after_a_long_run():
    assert delay(0, 0) == FIRST_DELAY
    assert delay(0.1, 0.5) == 0.2
    assert delay(0.4, 0.5) == 0.8
    assert delay(0.8, 11) == FIRST_DELAY
    assert delay(50, 0) == 60


def test_a_run_that_just_ended_is_not_taken_for_a_stopped_container(strata):
    """Between a process's end and its shim's record of what follows (an exit, or a restart
    policy's back-off), the container still counts as running: prune and rm leave it (prune
    took it and then waited forever on a shim that never ends), start adds no second shim."""
    assert strata("create", "--name", "between", "base", "true").returncode == 0
    state_file = next((strata.root / "containers").iterdir()) / "state.json"
    gone = os.fork()
    if gone == 0:
        os._exit(0)
    os.waitpid(gone, 0)
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**state, "Status": "running", "Pid": gone, "ShimPid": os.getpid()}))
    started = time.monotonic()
    assert strata("container", "prune", "-f").returncode == 0
    assert time.monotonic() - started < 10
    assert strata("ps", "-aq").stdout.strip()  # still there
    assert strata("rm", "between").returncode == 1
    assert strata("start", "between").returncode == 0
    assert json.loads(state_file.read_text())["ShimPid"] == os.getpid()  # no shim of its own
    state_file.write_text(json.dumps({**state, "Status": "exited"}))
    assert strata("rm", "between").returncode == 0
