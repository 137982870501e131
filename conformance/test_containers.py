"""Running containers (seed §6 and §8): top, ps, names, rm, logs, wait, --rm, exit
codes, inspect State, -e, -w, -u, --entrypoint, hostname, exec.

Long-running containers run busybox `httpd -f` or `sleep` from the check's base image;
the cli fixture's cleanup force-removes them.
"""
import re
import time

from conformance.messages import expect_message
from conformance.running import run_detached

HTTPD = ["httpd", "-f", "-p", "80", "-h", "/www"]
PS_HEADER = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]


def ps_row(output: str) -> dict[str, str]:
    """The only row of a default `ps` table, cut at the header's column starts."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 2, lines
    header, row = lines
    starts = [header.index(col) for col in PS_HEADER]
    assert starts == sorted(starts), header
    ends = starts[1:] + [None]
    return {col: row[s:e].strip() for col, s, e in zip(PS_HEADER, starts, ends)}


def test_top_lists_the_container_processes(cli, base, names):
    name = names("web")
    run_detached(cli, base, name, *HTTPD)
    out = cli.ok("top", name)
    header = out.lines[0].split()
    assert "PID" in header and header[-1] == "CMD", out.lines[0]
    rows = out.lines[1:]
    assert len(rows) == 1, rows
    assert rows[0].endswith(" ".join(HTTPD))
    # the PID column is the process as the host sees it
    assert rows[0].split()[header.index("PID")] == cli.inspect(name, "{{.State.Pid}}")


STATS_HEADER = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]
BINARY_SIZE = r"\d+(\.\d+)?(B|KiB|MiB|GiB)"
DECIMAL_SIZE = r"\d+(\.\d+)?(B|kB|MB|GB)"
PERCENT = r"\d+\.\d\d%"


def test_stats_shows_the_memory_limit_and_the_process_count(cli, base, names):
    name = names("stats")
    cli.ok("run", "-d", "--name", name, "-m", "64m", base.ref, "sh", "-c", "sleep 300 & sleep 300 & wait")
    shown = cli.ok("stats", "--no-stream", "--format",
                   "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|{{.BlockIO}}|{{.PIDs}}",
                   name).stdout.strip().split("|")
    assert shown[0] == name and shown[6] == "3", shown            # sh and its two sleeps
    assert re.fullmatch(PERCENT, shown[1]) and re.fullmatch(PERCENT, shown[3]), shown
    assert re.fullmatch(f"{BINARY_SIZE} / 64MiB", shown[2]), shown
    assert float(shown[3].rstrip("%")) < 100
    assert re.fullmatch(f"{DECIMAL_SIZE} / {DECIMAL_SIZE}", shown[4]), shown
    assert re.fullmatch(f"{DECIMAL_SIZE} / {DECIMAL_SIZE}", shown[5]), shown
    table = cli.ok("stats", "--no-stream", name).lines
    assert len(table) == 2 and table[1].split()[1] == name, table
    assert re.split(r"\s{2,}", table[0]) == STATS_HEADER


def test_stats_counts_the_cpu_a_busy_process_takes(cli, base, names):
    name = names("busy")
    cli.ok("run", "-d", "--name", name, base.ref, "sh", "-c", "while :; do :; done")
    used = cli.ok("stats", "--no-stream", "--format", "{{.CPUPerc}}", name).stdout.strip()
    assert re.fullmatch(PERCENT, used) and float(used.rstrip("%")) > 1.0, used
    cli.ok("rm", "-f", name)


def test_stats_of_a_container_that_does_not_run_is_zero_and_of_an_unknown_one_fails(cli, base, names,
                                                                                      messages):
    name = names("idle")
    cli.ok("create", "--name", name, base.ref, "true")
    shown = cli.ok("stats", "--no-stream", "--format", "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}", name)
    assert shown.stdout.strip() == f"{name}|0.00%|0B / 0B|0"
    missing = names("nope")
    result = cli.fails("stats", "--no-stream", missing)
    assert result.rc == 1
    expect_message(result.stderr, messages, "container.no_such_container", name=missing)


def test_ps_lists_a_running_container_in_its_columns(cli, base, names):
    name = names("web")
    cid = run_detached(cli, base, name, *HTTPD, options=["-p", "127.0.0.1::80"])
    host_port = cli.ok("port", name, "80").stdout.strip()
    row = ps_row(cli.ok("ps", "--filter", f"name=^{name}$").stdout)
    assert row["CONTAINER ID"] == cid[:12]
    assert row["IMAGE"] == cli.listed_name(base.ref)
    assert row["COMMAND"] == '"httpd -f -p 80 -h /…"'
    assert re.fullmatch(r"(Less than a second|\d+ seconds?) ago", row["CREATED"]), row
    assert re.fullmatch(r"Up (Less than a second|\d+ seconds?)", row["STATUS"]), row
    assert row["PORTS"] == f"{host_port}->80/tcp"
    assert row["NAMES"] == name


def test_ps_s_and_inspect_s_count_a_containers_own_bytes(cli, base, names):
    # SizeRw: the bytes its own layer holds (a hard-linked file once); SizeRootFs: with the
    # image's; `ps -s` shows both in its SIZE column, and a --format that names .Size asks for them
    name = names("sized")
    run_detached(cli, base, name, "sh", "-c", "head -c 3000 /dev/zero > /big; ln /big /again; sleep 300")
    image_size = int(cli.ok("image", "inspect", "--format", "{{.Size}}", base.ref).stdout)
    deadline = time.monotonic() + 10
    while (sizes := cli.ok("inspect", "-s", "--format", "{{.SizeRw}} {{.SizeRootFs}}", name).stdout.split()) \
            != ["3000", str(3000 + image_size)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sizes == ["3000", str(3000 + image_size)]
    assert "SizeRw" not in cli.ok("inspect", name).stdout
    shown = cli.ok("ps", "-s", "--filter", f"name={name}")
    assert shown.lines[0].split()[-1] == "SIZE", shown.describe()
    assert re.search(r" 3kB \(virtual [0-9.]+MB\)$", shown.lines[1]), shown.describe()
    row = cli.ok("ps", "--filter", f"name={name}", "--format", "{{.Names}} {{.Size}}").stdout
    assert re.fullmatch(re.escape(name) + r" 3kB \(virtual [0-9.]+MB\)\n", row), row


def test_ps_lists_stopped_containers_only_with_all(cli, base, names):
    name = names("done")
    cli.ok("run", "--name", name, base.ref, "true")
    assert cli.ok("ps", "-q", "--filter", f"name=^{name}$").lines == []
    row = ps_row(cli.ok("ps", "-a", "--filter", f"name=^{name}$").stdout)
    assert row["NAMES"] == name
    assert row["COMMAND"] == '"true"'
    assert re.fullmatch(r"Exited \(0\) (Less than a second|\d+ seconds?) ago", row["STATUS"]), row
    assert row["PORTS"] == ""


def test_run_with_a_name_in_use_is_a_conflict(cli, base, names, messages):
    name = names("taken")
    cid = run_detached(cli, base, name, "sleep", "300")
    result = cli.fails("run", "-d", "--name", name, base.ref, "sleep", "300")
    assert result.rc == 125
    expect_message(result.stderr, messages, "container.name_in_use", name=name)
    assert cid in result.stderr
    assert cli.inspect(name, "{{.Id}} {{.State.Running}}") == f"{cid} true"
    assert cli.ok("ps", "-a", "-q", "--no-trunc", "--filter", f"name=^{name}$").lines == [cid]


def test_rm_of_a_running_container_is_refused(cli, base, names, messages):
    name = names("busy")
    cid = run_detached(cli, base, name, "sleep", "300")
    result = cli.fails("rm", name)
    assert result.rc == 1
    expect_message(result.stderr, messages, "container.remove_running", id=cid)
    assert cli.inspect(name, "{{.State.Running}}") == "true"


def test_rm_force_removes_a_running_container(cli, base, names, messages):
    name = names("busy")
    run_detached(cli, base, name, "sleep", "300")
    assert cli.ok("rm", "-f", name).lines == [name]
    assert cli.ok("ps", "-a", "-q", "--filter", f"name=^{name}$").lines == []
    expect_message(cli.fails("rm", name).stderr, messages, "container.no_such_container", name=name)


def test_logs_replays_stdout_and_stderr_apart(cli, base, names):
    name = names("talk")
    cli.ok("run", "--name", name, base.ref, "sh", "-c", "echo to-out; echo to-err >&2")
    logs = cli.ok("logs", name)
    assert logs.stdout == "to-out\n"
    assert logs.stderr == "to-err\n"


def test_wait_prints_the_exit_code(cli, base, names):
    name = names("exit3")
    run_detached(cli, base, name, "sh", "-c", "sleep 1; exit 3")
    assert cli.ok("wait", name).lines == ["3"]
    assert cli.inspect(name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 3"


def test_run_rm_leaves_no_container(cli, base, names):
    name = names("gone")
    assert cli.ok("run", "--rm", "--name", name, base.ref, "echo", "bye").stdout == "bye\n"
    assert cli.ok("ps", "-a", "-q", "--filter", f"name=^{name}$").lines == []
    assert not cli.exists("container", name)


def test_run_exit_code_is_the_command_exit_code(cli, base, names):
    result = cli.run("run", "--rm", base.ref, "sh", "-c", "exit 42")
    assert result.rc == 42


def test_run_of_a_missing_command_exits_127(cli, base, names, messages):
    name = names("nocmd")
    result = cli.fails("run", "--name", name, base.ref, "/nonexistent")
    assert result.rc == 127
    expect_message(result.stderr, messages, "container.exec_not_found", path="/nonexistent")
    assert cli.inspect(name, "{{.State.Running}} {{.State.ExitCode}}") == "false 127"


def test_run_of_a_non_executable_file_exits_126(cli, base, names, messages):
    name = names("noexec")
    result = cli.fails("run", "--name", name, base.ref, "/etc/passwd")
    assert result.rc == 126
    expect_message(result.stderr, messages, "container.exec_permission_denied", path="/etc/passwd")
    assert cli.inspect(name, "{{.State.Running}} {{.State.ExitCode}}") == "false 126"


def test_inspect_state_running_follows_the_container(cli, base, names):
    running, done = names("running"), names("done")
    run_detached(cli, base, running, "sleep", "300")
    cli.ok("run", "--name", done, base.ref, "true")
    assert cli.inspect(running, "{{.State.Running}} {{.State.Status}}") == "true running"
    assert cli.inspect(done, "{{.State.Running}} {{.State.Status}}") == "false exited"


def test_run_env_sets_a_variable(cli, base):
    out = cli.ok("run", "--rm", "-e", "GREETING=hello world", "-e", "EMPTY=", base.ref,
                 "sh", "-c", 'echo "$GREETING|${EMPTY-unset}|${OTHER-unset}"')
    assert out.stdout == "hello world||unset\n"


def test_run_workdir_is_created_and_used(cli, base):
    out = cli.ok("run", "--rm", "-w", "/made/by/run", base.ref, "sh", "-c", "pwd; ls -d /made/by/run")
    assert out.stdout == "/made/by/run\n/made/by/run\n"


def test_run_user_nobody_runs_as_65534(cli, base):
    out = cli.ok("run", "--rm", "-u", "nobody", base.ref, "sh", "-c", "id -u; id -g")
    assert out.lines == ["65534", "65534"]


def test_entrypoint_replaces_the_command_and_clears_the_default_cmd(cli, base):
    assert cli.ok("run", "--rm", "--entrypoint", "echo", base.ref, "hello", "world").stdout == "hello world\n"
    # the image's CMD ["/bin/sh"] is dropped, not passed to the new entrypoint
    assert cli.ok("run", "--rm", "--entrypoint", "echo", base.ref).stdout == "\n"


def test_hostname_is_the_short_container_id(cli, base, names):
    name = names("host")
    out = cli.ok("run", "--name", name, base.ref, "sh", "-c", "hostname; cat /etc/hostname")
    short = cli.inspect(name, "{{.Id}}")[:12]
    assert out.lines == [short, short]


def test_exec_runs_inside_the_running_container(cli, base, names):
    name = names("target")
    run_detached(cli, base, name, "sleep", "300")
    cli.ok("exec", name, "sh", "-c", "echo made-by-exec > /tmp/mark")
    assert cli.ok("exec", name, "cat", "/tmp/mark").stdout == "made-by-exec\n"
    # same PID namespace: PID 1 is the container's command
    assert cli.ok("exec", name, "cat", "/proc/1/cmdline").stdout == "sleep\x00300\x00"


def test_exec_in_a_stopped_container_is_refused(cli, base, names, messages):
    name = names("stopped")
    cli.ok("run", "--name", name, base.ref, "true")
    result = cli.fails("exec", name, "true")
    assert result.rc == 1
    expect_message(result.stderr, messages, "container.not_running", id=cli.inspect(name, "{{.Id}}"))


def test_kill_returns_once_the_exit_is_recorded(cli, base, names):
    name = names("killed")
    run_detached(cli, base, name, "sleep", "300")
    cli.ok("kill", name)
    assert cli.inspect(name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 137"
