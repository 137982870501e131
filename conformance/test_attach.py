"""attach (issue 20): joining a running container's stdio after its start — output, stdin
of a container opened with -i, the detach keys on a TTY, the signal proxy, and the
refusals for a container that does not run.

TTY checks type through a scripted terminal (conformance/probes/terminal.py) that waits
for the container's answer before the next keys: the attached CLI must have put the
terminal in raw mode by then, or ctrl-q would be taken as XON by the line discipline.
"""
from pathlib import Path

from conformance.helpers import in_terminal
from conformance.messages import expect_message
from conformance.running import poll, run_detached

TICKING = ["sh", "-c", "trap 'echo got-TERM; exit 3' TERM; while :; do echo tick; sleep 0.2; done"]


def test_attach_to_a_stopped_container_is_refused(cli, base, names, messages):
    name = names("created")
    cli.ok("create", "--name", name, base.ref, "true")
    result = cli.run("attach", name)
    assert result.rc == 1, result
    expect_message(result.stderr, messages, "attach.stopped")


def test_attach_to_a_paused_container_is_refused(cli, base, names, messages):
    name = names("paused")
    run_detached(cli, base, name, "sleep", "60")
    cli.ok("pause", name)
    try:
        result = cli.run("attach", name)
        assert result.rc == 1, result
        expect_message(result.stderr, messages, "attach.paused")
    finally:
        cli.run("unpause", name)


def test_attach_feeds_stdin_and_shows_the_output_until_the_container_exits(cli, base, names):
    name = names("reader")
    run_detached(cli, base, name, "sh", "-c", 'read line; echo "got:$line"; exit 4', options=("-i",))
    # stdin stays open meanwhile: its end would end the attachment (dockerd closes the output then)
    result = cli.shell("(printf 'one\\n'; sleep 3) | {cli} attach {name}", name=name)
    assert result.stdout == "got:one\n", result
    assert result.rc == 4, result  # the container's exit code
    assert cli.inspect(name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 4"


def test_ctrl_p_ctrl_q_detaches_from_a_tty_and_the_container_runs_on(cli, base, names, messages):
    name = names("shell")
    run_detached(cli, base, name, "sh", options=("-i", "-t"))
    result = in_terminal(cli, ("attach", name), ("send", "echo hi-$((40+2))\\n"), ("expect", "hi-42"),
                         ("send", "\\x10\\x11"))
    assert result.rc == 1, result
    expect_message(result.stdout, messages, "attach.detached")
    assert cli.inspect(name, "{{.State.Status}}") == "running"
    result = cli.run("exec", name, "true")
    assert result.rc == 0, result


def test_detach_keys_choose_the_sequence(cli, base, names, messages):
    name = names("shell")
    run_detached(cli, base, name, "sh", options=("-i", "-t"))
    # ctrl-p ctrl-q now reach the shell; ctrl-a then `a` detach
    result = in_terminal(cli, ("attach", "--detach-keys", "ctrl-a,a", name),
                         ("send", "\\x10\\x11echo still-$((1+1))\\n"), ("expect", "still-2"), ("send", "\\x01a"))
    assert result.rc == 1, result
    expect_message(result.stdout, messages, "attach.detached")
    assert cli.inspect(name, "{{.State.Status}}") == "running"


def test_ctrl_p_ctrl_q_detaches_an_interactive_run_which_runs_on(cli, base, names):
    name = names("shell")
    result = in_terminal(cli, ("run", "-it", "--name", name, base.ref, "sh"),
                         ("send", "echo hi-$((40+2))\\n"), ("expect", "hi-42"), ("send", "\\x10\\x11"))
    assert result.rc == 0, result  # run says nothing when it detaches
    assert cli.inspect(name, "{{.State.Status}}") == "running"


def test_start_attached_to_a_running_container_joins_it_and_detaches(cli, base, names):
    name = names("shell")
    run_detached(cli, base, name, "sh", options=("-i", "-t"))
    result = in_terminal(cli, ("start", "-ai", name),
                         ("send", "echo x-$((1+1))\\n"), ("expect", "x-2"), ("send", "\\x10\\x11"))
    assert result.rc == 0, result
    assert cli.inspect(name, "{{.State.Status}}") == "running"


def _signalled(cli, out: Path, *words: str):
    """`{cli} WORDS` in the background until the container's first tick, then SIGTERM to that
    command; prints its exit code and how many times the container said it got the signal."""
    args = " ".join(f"{{a{i}}}" for i in range(len(words)))
    return cli.shell(
        f"{{cli}} {args} > {{out}} 2>&1 & pid=$!\n"
        "i=0; until grep -q tick {out} || [ $i -ge 100 ]; do sleep 0.1; i=$((i+1)); done\n"
        "kill -TERM $pid; i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done\n"
        "kill -KILL $pid 2>/dev/null; wait $pid; echo rc=$?; grep -c got-TERM {out} || true",
        out=out, **{f"a{i}": word for i, word in enumerate(words)})


def test_sig_proxy_passes_a_signal_to_the_container(cli, base, names, tmp_path):
    name = names("ticking")
    run_detached(cli, base, name, *TICKING)
    result = _signalled(cli, tmp_path / "attach.out", "attach", name)
    assert result.lines == ["rc=3", "1"], result  # the attach ends with the container's code
    assert cli.inspect(name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 3"


def test_sig_proxy_false_leaves_the_container_alone(cli, base, names, tmp_path):
    name = names("ticking")
    run_detached(cli, base, name, *TICKING)
    result = _signalled(cli, tmp_path / "attach.out", "attach", "--sig-proxy=false", name)
    assert result.lines[-1] == "0", result  # the container never saw the signal
    assert poll(lambda: cli.inspect(name, "{{.State.Status}}") == "running", 2)
    assert "got-TERM" not in cli.ok("logs", name).stdout


def test_an_attached_run_passes_a_signal_to_its_container(cli, base, names, tmp_path):
    name = names("ticking")
    result = _signalled(cli, tmp_path / "run.out", "run", "--name", name, base.ref, *TICKING)
    assert result.lines == ["rc=3", "1"], result
    assert cli.inspect(name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 3"




def size_seen(rows: int, columns: int) -> str:
    """Wait until the terminal has this size (the CLI's resize comes after the start, the
    command may be first; 20 s at most, for a loaded host), then print it."""
    return (f'for i in $(seq 200); do s=$(stty size); [ "$s" = "{rows} {columns}" ] && break; sleep 0.1; done; '
            'echo "size=$s"')


SIZE_SEEN = size_seen(33, 77)


def test_the_containers_terminal_takes_the_size_of_the_attached_one(cli, base, names):
    # the CLI gives its terminal's window size to the container's (docker: POST .../resize)
    result = in_terminal(cli, ("run", "--rm", "-it", base.ref, "sh", "-c", SIZE_SEEN), size="33x77")
    assert result.rc == 0 and "size=33 77" in result.stdout, result.describe()
    name = names("sized")
    run_detached(cli, base, name, "sleep", "300")
    result = in_terminal(cli, ("exec", "-it", name, "sh", "-c", SIZE_SEEN), size="33x77")
    assert result.rc == 0 and "size=33 77" in result.stdout, result.describe()


def test_a_resized_terminal_resizes_the_containers(cli, base, names):
    # the CLI follows its window (SIGWINCH) and resizes the container's (or the exec's) terminal again
    script = f"{size_seen(33, 77)}; {size_seen(40, 100)}"
    steps = (("expect", "size=33 77"), ("resize", "40x100"), ("expect", "size=40 100"))
    result = in_terminal(cli, ("run", "--rm", "-it", base.ref, "sh", "-c", script), *steps, size="33x77")
    assert result.rc == 0, result.describe()
    name = names("sized")
    run_detached(cli, base, name, "sleep", "300")
    result = in_terminal(cli, ("exec", "-it", name, "sh", "-c", script), *steps, size="33x77")
    assert result.rc == 0, result.describe()
