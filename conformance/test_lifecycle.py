"""A container's life (issue 20): signals and stop, State after each, users and groups,
pause/unpause, rename, restart policies, health checks and --init.

Processes that must react to a signal are shell loops with a trap: a container's PID 1
gets no default signal actions, so a bare `sleep` ignores SIGTERM (which `stop -t`
relies on).
"""
import json
import re
import time

from conformance.messages import expect_message
from conformance.running import poll, run_detached

ZERO_TIME = "0001-01-01T00:00:00Z"


def trapping(signal_name: str, code: int) -> list[str]:
    """A PID 1 that exits with `code` on `signal_name` and otherwise runs on; /tmp/ready
    once its trap is set."""
    return ["sh", "-c", f'trap "exit {code}" {signal_name}; touch /tmp/ready; while :; do sleep 0.1; done']


def state(cli, name: str) -> dict:
    return json.loads(cli.inspect(name, "{{json .State}}"))


def wait_running_trap(cli, name: str) -> None:
    """The shell has set its trap once /tmp/ready exists."""
    assert poll(lambda: cli.run("exec", name, "test", "-e", "/tmp/ready").rc == 0), "the trap was never set"


# --- signals and stop ---------------------------------------------------------------------------

def test_kill_with_a_signal_name_or_number_reaches_the_process(cli, base, names):
    by_name, by_number = names("byname"), names("bynumber")
    run_detached(cli, base, by_name, *trapping("USR1", 7))
    run_detached(cli, base, by_number, *trapping("USR1", 8))
    wait_running_trap(cli, by_name)
    wait_running_trap(cli, by_number)
    assert cli.ok("kill", "-s", "SIGUSR1", by_name).lines == [by_name]
    assert cli.ok("kill", "--signal", "10", by_number).lines == [by_number]
    assert cli.ok("wait", by_name, by_number).lines == ["7", "8"]
    assert cli.inspect(by_name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 7"


def test_kill_defaults_to_sigkill_and_137_is_recorded_at_once(cli, base, names):
    name = names("killed")
    run_detached(cli, base, name, "sleep", "300")
    running = state(cli, name)
    assert running["Pid"] > 0 and running["Running"] and running["FinishedAt"] == ZERO_TIME
    cli.ok("kill", name)
    after = state(cli, name)  # no wait: kill returns once the exit is recorded
    assert {k: after[k] for k in ("Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead", "Pid",
                                  "ExitCode", "Error")} == {
        "Status": "exited", "Running": False, "Paused": False, "Restarting": False, "OOMKilled": False,
        "Dead": False, "Pid": 0, "ExitCode": 137, "Error": ""}
    assert after["StartedAt"] == running["StartedAt"]
    assert after["FinishedAt"] != ZERO_TIME and after["FinishedAt"] >= after["StartedAt"]


def test_kill_with_an_unknown_signal_is_refused(cli, base, names, messages):
    name = names("alive")
    run_detached(cli, base, name, "sleep", "300")
    result = cli.fails("kill", "-s", "NOPE", name)
    assert result.rc == 1
    expect_message(result.stderr, messages, "lifecycle.invalid_signal", signal="NOPE")
    assert cli.inspect(name, "{{.State.Running}}") == "true"


def test_kill_of_a_stopped_container_is_refused(cli, base, names, messages):
    name = names("done")
    cli.ok("run", "--name", name, base.ref, "true")
    result = cli.fails("kill", name)
    assert result.rc == 1
    cid = cli.inspect(name, "{{.Id}}")
    expect_message(result.stderr, messages, "lifecycle.kill_not_running", name=name, id=cid)


def test_stop_time_kills_a_process_that_ignores_the_stop_signal(cli, base, names):
    name = names("stubborn")
    run_detached(cli, base, name, "sleep", "300")  # PID 1: SIGTERM does nothing
    started = time.monotonic()
    assert cli.ok("stop", "-t", "1", name).lines == [name]
    took = time.monotonic() - started
    assert 1 <= took < 8, took
    assert cli.inspect(name, "{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}") == "exited 137 0"


def test_stop_sends_the_stop_signal_flag(cli, base, names):
    name = names("usr1")
    run_detached(cli, base, name, *trapping("USR1", 9), options=["--stop-signal", "USR1"])
    wait_running_trap(cli, name)
    assert cli.inspect(name, "{{.Config.StopSignal}}") == "USR1"
    started = time.monotonic()
    cli.ok("stop", name)
    assert time.monotonic() - started < 8
    assert cli.inspect(name, "{{.State.ExitCode}}") == "9"


def test_stop_sends_the_images_stopsignal(cli, base, names, context):
    tag = f"{names('stopsig')}:1"
    cli.build_ok(context({"Dockerfile": f"FROM {base.ref}\nSTOPSIGNAL SIGUSR2\n"}), tag=tag)
    name = names("usr2")
    run_detached(cli, tag, name, *trapping("USR2", 12))
    wait_running_trap(cli, name)
    assert cli.inspect(name, "{{.Config.StopSignal}}") == "SIGUSR2"
    cli.ok("stop", name)
    assert cli.inspect(name, "{{.State.ExitCode}}") == "12"


def test_stop_timeout_flag_is_the_default_grace_period(cli, base, names):
    name = names("grace")
    run_detached(cli, base, name, "sleep", "300", options=["--stop-timeout", "1"])
    assert cli.inspect(name, "{{.Config.StopTimeout}}") == "1"
    started = time.monotonic()
    cli.ok("stop", name)
    assert time.monotonic() - started < 8  # not the default 10 s
    assert cli.inspect(name, "{{.State.ExitCode}}") == "137"


def test_a_containers_processes_start_with_no_signal_ignored(cli, base, names):
    # runc starts them so; an engine written in Python ignores SIGPIPE (and its shim maybe
    # SIGHUP), and what is ignored is inherited through exec: `yes` would end in "Broken pipe"
    result = cli.ok("run", "--rm", base.ref, "sh", "-c", "yes | head -1")
    assert (result.stdout, result.stderr) == ("y\n", ""), result.describe()
    assert cli.ok("run", "--rm", base.ref, "grep", "SigIgn", "/proc/self/status").lines == [
        "SigIgn:\t0000000000000000"]
    name = names("sigign")
    run_detached(cli, base, name, "sleep", "300")
    assert cli.ok("exec", name, "grep", "SigIgn", "/proc/self/status").lines == ["SigIgn:\t0000000000000000"]
    result = cli.ok("exec", name, "sh", "-c", "yes | head -1")
    assert (result.stdout, result.stderr) == ("y\n", ""), result.describe()

# --- users ---------------------------------------------------------------------------------------------

def test_user_by_uid_and_gid_needs_no_passwd_entry(cli, base):
    assert cli.ok("run", "--rm", "-u", "1000:1000", base.ref, "sh", "-c", "id -u; id -g; echo $HOME").lines == [
        "1000", "1000", "/"]
    # a uid alone: group 0
    assert cli.ok("run", "--rm", "-u", "1000", base.ref, "id", "-g").lines == ["0"]


def test_user_by_name_and_group_by_name_come_from_the_images_files(cli, base):
    out = cli.ok("run", "--rm", "-u", "nobody:root", base.ref, "sh", "-c", "id -u; id -g; echo $HOME")
    assert out.lines == ["65534", "0", "/nonexistent"]


def test_group_add_adds_supplementary_groups(cli, base):
    out = cli.ok("run", "--rm", "-u", "nobody", "--group-add", "50", "--group-add", "nogroup", base.ref,
                 "id", "-G")
    assert sorted(out.stdout.split()) == ["50", "65534"]


def test_supplementary_groups_come_from_etc_group(cli, base, names, context):
    tag = f"{names('staff')}:1"
    cli.build_ok(context({"Dockerfile": f"FROM {base.ref}\nRUN echo 'staff:x:50:nobody' >> /etc/group\n"
                                        "USER nobody\n"}), tag=tag)
    assert cli.inspect(tag, "{{.Config.User}}") == "nobody"
    out = cli.ok("run", "--rm", tag, "sh", "-c", "id -u; id -G")
    assert out.lines[0] == "65534"
    assert sorted(out.lines[1].split()) == ["50", "65534"]


def test_the_primary_group_is_also_a_supplementary_group(cli, base, names):
    # dockerd's getUser puts the primary gid first in AdditionalGids: getgroups() is never empty
    groups = "grep Groups /proc/self/status"
    assert cli.ok("run", "--rm", base.ref, "sh", "-c", groups).lines == ["Groups:\t0 "]
    assert cli.ok("run", "--rm", "-u", "1000:1000", base.ref, "sh", "-c", groups).lines == ["Groups:\t1000 "]
    assert cli.ok("run", "--rm", "-u", "nobody", "--group-add", "50", "--group-add", "nogroup", base.ref,
                  "sh", "-c", groups).lines == ["Groups:\t50 65534 "]
    name = names("groups")
    run_detached(cli, base, name, "sleep", "300")
    assert cli.ok("exec", "-u", "1000:1000", name, "sh", "-c", groups).lines == ["Groups:\t1000 "]


def test_unknown_user_or_group_is_refused(cli, base, names, messages):
    result = cli.fails("run", "--rm", "-u", "ghost", base.ref, "true")
    assert result.rc == 125
    expect_message(result.stderr, messages, "lifecycle.unknown_user", user="ghost")
    result = cli.fails("run", "--rm", "-u", "nobody:ghosts", base.ref, "true")
    assert result.rc == 125
    expect_message(result.stderr, messages, "lifecycle.unknown_group", group="ghosts")
    result = cli.fails("run", "--rm", "--group-add", "ghosts", base.ref, "true")
    assert result.rc == 125
    expect_message(result.stderr, messages, "lifecycle.unknown_added_group", group="ghosts")


# --- pause / unpause / rename -----------------------------------------------------------------------------

COUNTER = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done"]


def count(cli, name: str) -> int:
    """How far the counter got: the lines it logged (logs work while it is paused)."""
    return len(cli.ok("logs", name).lines)


def test_pause_freezes_the_process_and_unpause_thaws_it(cli, base, names, messages):
    name = names("counter")
    run_detached(cli, base, name, *COUNTER)
    assert poll(lambda: count(cli, name) > 0)
    assert cli.ok("pause", name).lines == [name]
    paused = state(cli, name)
    assert (paused["Status"], paused["Running"], paused["Paused"]) == ("paused", True, True)
    assert cli.ok("ps", "--filter", f"name=^{name}$", "--format", "{{.State}}").lines == ["paused"]
    assert cli.ok("ps", "--filter", f"name=^{name}$", "--format", "{{.Status}}").stdout.strip().endswith(
        "(Paused)")
    result = cli.fails("exec", name, "true")
    expect_message(result.stderr, messages, "lifecycle.exec_paused", name=name)
    cid = cli.inspect(name, "{{.Id}}")
    expect_message(cli.fails("pause", name).stderr, messages, "lifecycle.already_paused", id=cid)
    cli.ok("unpause", name)
    first = count(cli, name)
    assert poll(lambda: count(cli, name) != first)
    assert cli.inspect(name, "{{.State.Status}} {{.State.Paused}}") == "running false"
    expect_message(cli.fails("unpause", name).stderr, messages, "lifecycle.not_paused", id=cid)


def test_paused_process_does_not_advance(cli, base, names):
    name = names("frozen")
    run_detached(cli, base, name, *COUNTER)
    assert poll(lambda: count(cli, name) > 0)
    cli.ok("pause", name)
    value = count(cli, name)
    time.sleep(1.5)
    assert count(cli, name) == value  # not one step while paused
    cli.ok("unpause", name)
    assert poll(lambda: count(cli, name) > value)


def test_pause_of_a_stopped_container_is_refused(cli, base, names, messages):
    name = names("stopped")
    cli.ok("run", "--name", name, base.ref, "true")
    result = cli.fails("pause", name)
    assert result.rc == 1
    expect_message(result.stderr, messages, "container.not_running", id=cli.inspect(name, "{{.Id}}"))


def test_rename_changes_the_name_and_keeps_the_container(cli, base, names, messages):
    old, new, other = names("old"), names("new"), names("other")
    cid = run_detached(cli, base, old, "sleep", "300")
    run_detached(cli, base, other, "sleep", "300")
    assert cli.ok("rename", old, new).stdout == ""
    assert cli.inspect(new, "{{.Id}} {{.Name}}") == f"{cid} /{new}"
    assert not cli.exists("container", old)
    result = cli.fails("rename", new, new)
    assert result.rc == 1
    expect_message(result.stderr, messages, "lifecycle.rename_same")
    result = cli.fails("rename", new, other)
    expect_message(result.stderr, messages, "lifecycle.rename_conflict", name=other)
    assert cli.inspect(new, "{{.Id}}") == cid


# --- restart policies ---------------------------------------------------------------------------------------

def test_on_failure_restarts_up_to_the_maximum(cli, base, names):
    name = names("flaky")
    run_detached(cli, base, name, "sh", "-c", "echo ran; exit 3", options=["--restart", "on-failure:2"])
    assert cli.inspect(name, "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}"
                       ) == "on-failure 2"
    assert poll(lambda: cli.inspect(name, "{{.RestartCount}} {{.State.Status}}") == "2 exited", seconds=20), \
        cli.inspect(name, "{{json .State}} {{.RestartCount}}")
    time.sleep(1)  # and no third run
    assert cli.inspect(name, "{{.RestartCount}} {{.State.ExitCode}} {{.State.Restarting}}") == "2 3 false"
    assert cli.ok("logs", name).lines == ["ran", "ran", "ran"]


def test_on_failure_does_not_restart_a_success(cli, base, names):
    name = names("fine")
    run_detached(cli, base, name, "true", options=["--restart", "on-failure"])
    assert cli.ok("wait", name).lines == ["0"]
    time.sleep(1)
    assert cli.inspect(name, "{{.RestartCount}} {{.State.Status}}") == "0 exited"


def test_stop_ends_an_always_restart_policy(cli, base, names):
    name = names("always")
    run_detached(cli, base, name, "sleep", "300", options=["--restart", "always"])
    cli.ok("stop", "-t", "1", name)
    time.sleep(1)
    assert cli.inspect(name, "{{.State.Status}} {{.RestartCount}}") == "exited 0"


def test_during_the_back_off_the_container_is_restarting_without_a_process_or_network(cli, base, names):
    """Between two runs (dockerd's back-off): Status restarting, Running and Restarting true,
    no Pid, the last exit code, RestartCount already counting the next run; the network is
    given back (no address, no published ports) until the next run."""
    name = names("backoff")
    run_detached(cli, base, name, "sh", "-c", "exit 2", options=["--restart", "always", "-p", "127.0.0.1::80", "--label", f"backoff={name}"])
    fields = ('{"State": {{json .State}}, "RestartCount": {{.RestartCount}}, '
              '"IPAddress": {{json .NetworkSettings.IPAddress}}, "Ports": {{json .NetworkSettings.Ports}}}')

    def in_back_off():  # one inspect: every field of the same moment
        shown = json.loads(cli.inspect(name, fields))
        return shown if shown["State"]["Restarting"] else None
    shown = poll(in_back_off, seconds=20)
    assert shown, cli.inspect(name, fields)
    assert {k: shown["State"][k] for k in ("Status", "Running", "Restarting", "Pid", "ExitCode")} == {
        "Status": "restarting", "Running": True, "Restarting": True, "Pid": 0, "ExitCode": 2}, shown
    assert shown["RestartCount"] >= 1, shown
    assert shown["IPAddress"] == "" and not shown["Ports"], shown
    # `ps` without -a lists it (it counts as running), in its own words
    listed = poll(lambda: [row for row in cli.ok("ps", "--filter", f"name={name}", "--format", "{{.Status}}").lines
                           if row.startswith("Restarting (2) ")], seconds=20)
    assert listed and listed[0].endswith(" ago"), cli.ok("ps", "-a", "--filter", f"name={name}").stdout
    # and rm without -f and prune leave it alone, as a running one
    refused = cli.fails("rm", name)
    assert refused.rc == 1, refused.describe()
    cli.ok("container", "prune", "-f", "--filter", f"label=backoff={name}")
    assert cli.inspect(name, "{{.HostConfig.RestartPolicy.Name}}") == "always"
    cli.ok("stop", "-t", "1", name)


def test_invalid_restart_policies_are_refused(cli, base, messages):
    cases = [("bogus", "lifecycle.restart_invalid", {"policy": "bogus"}),
             ("on-failure:x", "lifecycle.restart_count_not_integer", {}),
             ("always:3", "lifecycle.restart_count_not_allowed", {"policy": "always"}),
             ("on-failure:-1", "lifecycle.restart_count_negative", {})]
    for policy, key, values in cases:
        result = cli.fails("run", "-d", "--restart", policy, base.ref, "true")
        assert result.rc == 125
        expect_message(result.stderr, messages, key, **values)
    result = cli.fails("run", "--rm", "--restart", "always", base.ref, "true")
    assert result.rc == 125
    expect_message(result.stderr, messages, "lifecycle.restart_with_rm")


# --- update ---------------------------------------------------------------------------------------

def cgroup_value(cli, name: str, v1: str, v2: str) -> str:
    """A cgroup file of a running container's own group, read inside it (v1 or v2 name)."""
    return cli.ok("exec", name, "sh", "-c", f"cat /sys/fs/cgroup/{v1} 2>/dev/null || "
                                            f"cat /sys/fs/cgroup/{v2}").stdout.strip()


def test_update_changes_the_limits_of_a_running_container(cli, base, names):
    name = names("limits")
    run_detached(cli, base, name, "sleep", "300", options=["-m", "64m"])
    assert cli.ok("update", "-m", "128m", name).lines == [name]
    limits = "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}"
    assert cli.inspect(name, limits) == f"{128 << 20} {128 << 20}"     # the swap limit stays
    assert cgroup_value(cli, name, "memory/memory.limit_in_bytes", "memory.max") == str(128 << 20)
    cli.ok("update", "--memory", "256m", "--memory-swap", "512m", "--cpus", "0.5", "--pids-limit", "50", name)
    assert cli.inspect(name, limits + " {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}") == \
        f"{256 << 20} {512 << 20} 500000000 50"
    assert cgroup_value(cli, name, "memory/memory.limit_in_bytes", "memory.max") == str(256 << 20)
    assert cgroup_value(cli, name, "pids/pids.max", "pids.max") == "50"
    assert cgroup_value(cli, name, "cpu/cpu.cfs_quota_us", "cpu.max").split()[0] == "50000"


def test_update_refuses_a_memory_limit_below_the_minimum_or_above_the_swap_limit(cli, base, names, messages):
    name = names("limits")
    run_detached(cli, base, name, "sleep", "300", options=["-m", "64m", "--memory-swap", "128m"])
    result = cli.fails("update", "-m", "2m", name)
    assert result.rc == 1
    expect_message(result.stderr, messages, "lifecycle.update_memory_minimum")
    result = cli.fails("update", "-m", "1g", name)
    assert result.rc == 1
    expect_message(result.stderr, messages, "lifecycle.update_memory_above_swap", id=cli.inspect(name, "{{.Id}}"))
    assert cli.inspect(name, "{{.HostConfig.Memory}}") == str(64 << 20)


# --- health checks ---------------------------------------------------------------------------------------------

HEALTH = ["--health-interval", "1s", "--health-retries", "2"]


def health(cli, name: str) -> dict:
    return json.loads(cli.inspect(name, "{{json .State.Health}}"))


def test_health_goes_from_starting_to_healthy(cli, base, names):
    name = names("healthy")
    # ten failures allowed: starting until the file is made, then healthy
    run_detached(cli, base, name, "sh", "-c", "sleep 5; touch /tmp/ok; sleep 300",
                 options=["--health-cmd", "test -e /tmp/ok", "--health-interval", "1s", "--health-retries", "10"])
    assert health(cli, name)["Status"] == "starting"
    assert "(health: starting)" in cli.ok("ps", "--filter", f"name=^{name}$", "--format", "{{.Status}}").stdout
    assert poll(lambda: health(cli, name)["Status"] == "healthy")
    report = health(cli, name)
    assert report["FailingStreak"] == 0
    assert report["Log"][-1]["ExitCode"] == 0
    assert set(report["Log"][-1]) == {"Start", "End", "ExitCode", "Output"}
    assert cli.ok("ps", "--filter", f"name=^{name}$", "--format", "{{.Status}}").stdout.strip().endswith(
        "(healthy)")
    assert cli.ok("ps", "-q", "--filter", f"name=^{name}$", "--filter", "health=healthy").lines == [
        cli.inspect(name, "{{.Id}}")[:12]]
    assert json.loads(cli.inspect(name, "{{json .Config.Healthcheck}}")) == {
        "Test": ["CMD-SHELL", "test -e /tmp/ok"], "Interval": 1000000000, "Retries": 10}


def test_health_becomes_unhealthy_after_the_retries(cli, base, names):
    name = names("sick")
    run_detached(cli, base, name, "sleep", "300", options=["--health-cmd", "echo nope; exit 1", *HEALTH])
    assert poll(lambda: health(cli, name)["Status"] == "unhealthy")
    report = health(cli, name)
    assert report["FailingStreak"] >= 2
    assert [entry["Output"] for entry in report["Log"]][:2] == ["nope\n", "nope\n"]
    assert report["Log"][0]["ExitCode"] == 1
    assert cli.ok("ps", "--filter", f"name=^{name}$", "--format", "{{.Status}}").stdout.strip().endswith(
        "(unhealthy)")


def test_a_health_probe_runs_as_an_exec_would(cli, base, names):
    # the container's user, its UTS and PID namespaces (/proc/self is the probe's own only
    # there), no capability left to a non-root user, no signal ignored
    name = names("probeas")
    run_detached(cli, base, name, "sleep", "300", options=[
        "-u", "1000:1000", "--health-interval", "1s",
        "--health-cmd", "id -u; hostname; grep CapEff /proc/self/status; yes | head -1"])
    assert poll(lambda: health(cli, name)["Status"] == "healthy"), health(cli, name)
    assert health(cli, name)["Log"][0]["Output"] == (
        f"1000\n{cli.inspect(name, '{{.Config.Hostname}}')}\nCapEff:\t0000000000000000\ny\n")


def test_dockerfile_healthcheck_is_kept_in_the_image_and_runs(cli, base, names, context):
    tag = f"{names('hc')}:1"
    cli.build_ok(context({"Dockerfile": f"FROM {base.ref}\n"
                                        "HEALTHCHECK --interval=1s --retries=2 CMD echo sick; exit 1\n"}), tag=tag)
    assert json.loads(cli.run("image", "inspect", "--format", "{{json .Config.Healthcheck}}", tag).stdout) == {
        "Test": ["CMD-SHELL", "echo sick; exit 1"], "Interval": 1000000000, "Retries": 2}
    name = names("hcrun")
    run_detached(cli, tag, name, "sleep", "300")
    assert poll(lambda: health(cli, name)["Status"] == "unhealthy")
    assert health(cli, name)["Log"][0]["Output"] == "sick\n"
    none = f"{names('hcnone')}:1"
    cli.build_ok(context({"Dockerfile": f"FROM {tag}\nHEALTHCHECK NONE\n"}), tag=none)
    assert json.loads(cli.run("image", "inspect", "--format", "{{json .Config.Healthcheck}}", none).stdout)[
        "Test"] == ["NONE"]


def test_a_health_probe_that_cannot_start_or_outlives_its_timeout_fails_with_minus_one(cli, base, names, context,
                                                                                      messages):
    tag = f"{names('hcmissing')}:1"
    cli.build_ok(context({"Dockerfile": f"FROM {base.ref}\n"
                                        'HEALTHCHECK --interval=1s --retries=2 CMD ["/nonexistent", "x"]\n'}), tag=tag)
    missing, slow = names("hcmissing"), names("hcslow")
    run_detached(cli, tag, missing, "sleep", "300")
    run_detached(cli, base, slow, "sleep", "300", options=[
        "--health-cmd", "echo started; sleep 5", "--health-timeout", "1s", *HEALTH])
    assert poll(lambda: health(cli, missing)["Status"] == "unhealthy"), health(cli, missing)
    first = health(cli, missing)["Log"][0]
    assert first["ExitCode"] == -1
    expect_message(first["Output"], messages, "exec.failed",
                   detail='exec: "/nonexistent": stat /nonexistent: no such file or directory')
    assert not first["Output"].endswith("\n")
    assert poll(lambda: health(cli, slow)["Status"] == "unhealthy"), health(cli, slow)
    assert {(e["ExitCode"], e["Output"]) for e in health(cli, slow)["Log"]} == {
        (-1, "Health check exceeded timeout (1s)")}


def test_health_is_unhealthy_while_paused_or_stopped_and_starting_again_with_its_log(cli, base, names):
    # dockerd stops a container's health monitor on pause and on exit and marks it unhealthy;
    # a start (or unpause) runs a new one; the log is kept throughout
    name = names("hcstate")
    run_detached(cli, base, name, "sleep", "300", options=["--health-cmd", "true", "--health-interval", "2s"])
    assert poll(lambda: health(cli, name)["Status"] == "healthy"), health(cli, name)
    cli.ok("pause", name)
    paused = health(cli, name)
    assert (paused["Status"], paused["FailingStreak"]) == ("unhealthy", 0), paused
    time.sleep(3)
    assert health(cli, name)["Log"] == paused["Log"]  # no probe while paused
    cli.ok("unpause", name)
    assert poll(lambda: health(cli, name)["Status"] == "healthy"), health(cli, name)
    cli.ok("stop", "-t", "1", name)
    stopped = health(cli, name)
    assert (stopped["Status"], stopped["FailingStreak"]) == ("unhealthy", 0), stopped
    assert len(stopped["Log"]) >= 2
    cli.ok("start", name)
    started = health(cli, name)
    assert (started["Status"], started["FailingStreak"]) == ("starting", 0), started
    assert started["Log"] == stopped["Log"]


def test_dockerfile_healthcheck_with_an_unknown_flag_is_a_parse_error(cli, base, context, messages):
    result = cli.build(context({"Dockerfile": f"FROM {base.ref}\nHEALTHCHECK --colour=1 CMD true\n"}))
    assert result.rc == 1, result.describe()
    expect_message(result.stderr, messages, "build.unknown_flag", line=2, flag="colour")


def test_a_container_without_a_healthcheck_has_no_health(cli, base, names):
    name = names("plain")
    run_detached(cli, base, name, "sleep", "300")
    assert cli.inspect(name, "{{json .State.Health}}") == "null"


# --- init ---------------------------------------------------------------------------------------------------------

def test_init_runs_an_init_as_pid_1(cli, base, names):
    name = names("init")
    out = cli.ok("run", "--name", name, "--init", base.ref, "sh", "-c", 'cat /proc/1/cmdline; echo; echo $$')
    pid1, own_pid = out.stdout.split("\n")[:2]
    argv = pid1.rstrip("\x00").split("\x00")
    assert argv[-3:] == ["sh", "-c", 'cat /proc/1/cmdline; echo; echo $$'], argv
    assert argv[0] != "sh" and own_pid != "1"
    assert cli.inspect(name, "{{.HostConfig.Init}}") == "true"


def test_init_forwards_the_stop_signal(cli, base, names):
    name = names("initstop")
    run_detached(cli, base, name, *trapping("TERM", 5), options=["--init"])
    wait_running_trap(cli, name)
    started = time.monotonic()
    cli.ok("stop", name)
    assert time.monotonic() - started < 8
    assert cli.inspect(name, "{{.State.ExitCode}}") == "5"
