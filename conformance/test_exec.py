"""exec (issue 20): user, working directory, environment, detached runs, a terminal, the
exit codes of a command that cannot run, and exec into a container that does not run.

The docker CLI writes why an exec could not start to stdout: it arrives in the exec's
output stream, not as an error of the request."""
import re
import time

from conformance.helpers import in_terminal
from conformance.messages import expect_message


def running(cli, base, names, label: str = "target") -> str:
    name = names(label)
    cid = cli.ok("run", "-d", "--name", name, base.ref, "sleep", "300").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid), cid
    return name


def test_exec_user_workdir_and_env(cli, base, names):
    name = running(cli, base, names)
    out = cli.ok("exec", "-u", "nobody", "-w", "/tmp", "-e", "FOO=bar", name,
                 "sh", "-c", 'id -u; id -g; pwd; echo "$FOO"; echo "$HOME"')
    assert out.lines == ["65534", "65534", "/tmp", "bar", "/nonexistent"]
    assert cli.ok("exec", "-u", "1000:50", name, "sh", "-c", "id -u; id -g").lines == ["1000", "50"]
    # without -w: the container's working directory
    assert cli.ok("exec", name, "pwd").lines == ["/"]


def test_exec_env_file(cli, base, names, tmp_path):
    name = running(cli, base, names)
    env_file = tmp_path / "env"
    env_file.write_text("A=1\n# a comment\nB=two words\n")
    out = cli.ok("exec", "--env-file", str(env_file), name, "sh", "-c", 'echo "$A|$B"')
    assert out.stdout == "1|two words\n"


def test_exec_detached_returns_before_the_command_ends(cli, base, names):
    name = running(cli, base, names)
    assert cli.ok("exec", "-d", name, "sh", "-c", "sleep 5; echo done > /tmp/mark").stdout == ""
    assert cli.run("exec", name, "cat", "/tmp/mark").rc != 0  # still sleeping
    deadline = time.monotonic() + 15
    while cli.run("exec", name, "cat", "/tmp/mark").stdout != "done\n" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert cli.ok("exec", name, "cat", "/tmp/mark").stdout == "done\n"


def test_a_detached_exec_with_t_still_runs_on_a_terminal(cli, base, names):
    name = running(cli, base, names)
    cli.ok("exec", "-d", "-t", name, "sh", "-c", "tty > /tmp/tty; echo out; sleep 1; echo on > /tmp/on")
    deadline = time.monotonic() + 15
    while cli.run("exec", name, "cat", "/tmp/on").rc != 0 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert cli.ok("exec", name, "cat", "/tmp/tty", "/tmp/on").lines == ["/dev/pts/0", "on"]


def test_exec_passes_the_commands_exit_code(cli, base, names):
    name = running(cli, base, names)
    assert cli.run("exec", name, "sh", "-c", "exit 5").rc == 5


def test_exec_tty_joins_the_streams_with_crlf(cli, base, names):
    name = running(cli, base, names)
    out = cli.ok("exec", "-t", name, "sh", "-c", "echo out; echo err >&2")
    assert out.stdout == "out\r\nerr\r\n"
    assert out.stderr == ""


def test_exec_tty_is_a_terminal_of_the_containers_own(cli, base, names):
    # the exec's terminal is made in the container's devpts (runc's console socket), owned by
    # the exec's user; a -t container's own terminal keeps /dev/pts/0 and /dev/console
    name = running(cli, base, names)
    out = cli.ok("exec", "-t", "-u", "1000", name, "sh", "-c", "tty; echo /dev/pts/*; stat -c '%u %g %a' $(tty)")
    assert out.lines == ["/dev/pts/0", "/dev/pts/0 /dev/pts/ptmx", "1000 5 620"], out.describe()
    assert cli.run("exec", name, "tty").stdout == "not a tty\n"
    terminal = names("terminal")
    cli.ok("run", "-d", "-t", "--name", terminal, base.ref, "sleep", "300")
    out = cli.ok("exec", "-t", terminal, "sh", "-c", "tty; echo /dev/pts/*; stat -c '%t,%T' /dev/console")
    assert out.lines == ["/dev/pts/1", "/dev/pts/0 /dev/pts/1 /dev/pts/ptmx", "88,0"], out.describe()
    assert cli.run("exec", terminal, "tty").stdout == "not a tty\n"


def test_exec_passes_input_only_with_i(cli, base, names):
    # without -i the command's stdin is empty; with it, the caller's
    name = running(cli, base, names)
    assert cli.shell("echo typed | {cli} exec {name} cat", name=name).stdout == ""
    assert cli.shell("echo typed | {cli} exec -i {name} cat", name=name).stdout == "typed\n"


def test_exec_it_is_an_interactive_terminal(cli, base, names):
    # what is typed reaches the command, through the exec's terminal (echoed, CRLF)
    name = running(cli, base, names)
    result = in_terminal(cli, ("exec", "-it", name, "sh"),
                         ("send", "echo hi-$((40+2))\\n"), ("expect", "hi-42"), ("send", "exit 3\\n"))
    assert result.rc == 3, result.describe()
    assert "hi-42\r\n" in result.stdout, result.describe()


def test_i_and_t_need_a_terminal_for_input(cli, base, names, messages):
    # the CLI refuses -it when its stdin is not a terminal, before anything runs
    name = running(cli, base, names)
    for words in (("exec", "-it", name, "touch", "/ran"), ("run", "--rm", "-it", base.ref, "true")):
        result = cli.shell("echo | {cli} " + " ".join("{w%d}" % i for i in range(len(words))),
                           **{f"w{i}": w for i, w in enumerate(words)})
        assert result.rc == 1, result.describe()
        expect_message(result.stderr, messages, "attach.input_not_a_tty")
    assert cli.run("exec", name, "ls", "/ran").rc != 0


def test_ctrl_p_ctrl_q_detaches_an_exec_which_runs_on(cli, base, names, messages):
    name = running(cli, base, names)
    result = in_terminal(cli, ("exec", "-it", name, "sh", "-c", "echo ready; exec sleep 3001"),
                         ("expect", "ready"), ("send", "\\x10\\x11"))
    assert result.rc == 1, result.describe()
    expect_message(result.stdout, messages, "attach.detached")
    time.sleep(0.5)  # a command the detachment hung up would be gone by now
    assert "sleep 3001" in cli.ok("exec", name, "ps", "-o", "args").lines
    result = in_terminal(cli, ("exec", "-it", "--detach-keys", "ctrl-a,a", name, "sh", "-c",
                               "echo ready; exec sleep 3002"), ("expect", "ready"), ("send", "\\x01a"))
    assert result.rc == 1, result.describe()
    time.sleep(0.5)
    assert "sleep 3002" in cli.ok("exec", name, "ps", "-o", "args").lines


def test_exec_of_a_missing_command_exits_126(cli, base, names, messages):
    name = running(cli, base, names)
    result = cli.run("exec", name, "/nonexistent")
    assert result.rc == 126
    expect_message(result.stdout, messages, "exec.failed", detail='exec: "/nonexistent": stat /nonexistent: '
                   "no such file or directory")
    result = cli.run("exec", name, "nosuchcmd")
    assert result.rc == 126
    expect_message(result.stdout, messages, "exec.failed",
                   detail='exec: "nosuchcmd": executable file not found in $PATH')


def test_exec_of_a_non_executable_file_exits_126(cli, base, names, messages):
    name = running(cli, base, names)
    result = cli.run("exec", name, "/etc/passwd")
    assert result.rc == 126
    expect_message(result.stdout, messages, "exec.failed", detail='exec: "/etc/passwd": permission denied')


def test_exec_as_an_unknown_user_is_refused(cli, base, names, messages):
    name = running(cli, base, names)
    result = cli.run("exec", "-u", "ghost", name, "true")
    assert result.rc == 126
    expect_message(result.stdout, messages, "exec.unknown_user", user="ghost")


def test_exec_into_a_stopped_container_is_refused(cli, base, names, messages):
    name = names("stopped")
    cli.ok("run", "--name", name, base.ref, "true")
    result = cli.fails("exec", "-d", name, "true")
    assert result.rc == 1
    expect_message(result.stderr, messages, "container.not_running", id=cli.inspect(name, "{{.Id}}"))


def test_run_env_without_a_value_is_taken_from_the_callers_environment(cli, base):
    out = cli.shell("FROMCALLER=yes {cli} run --rm -e FROMCALLER -e UNSETVAR_X " + base.ref
                    + " sh -c 'echo \"$FROMCALLER|${{UNSETVAR_X-unset}}\"'")
    assert out.rc == 0, out.describe()
    assert out.stdout == "yes|unset\n"
