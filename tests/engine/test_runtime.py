"""Container runtime details the suite does not cover: a real pty for -t, stdin for -i,
exec -d, the namespaces a container gets."""


def test_tty_gives_the_container_a_real_terminal(strata):
    out = strata("run", "--rm", "-t", "base", "sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && echo both; echo $TERM")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.replace("\r", "").split("\n")
    assert lines[0].startswith("/dev/pts/")
    assert lines[1:3] == ["both", "xterm"]


def test_interactive_passes_stdin(strata):
    out = strata("run", "--rm", "-i", "base", "sh", "-c", "read line; echo got:$line", input="hello\n")
    assert out.stdout == "got:hello\n"


def test_exec_detach_returns_at_once_and_the_process_runs_in_the_container(strata):
    name = "exec-detach"
    assert strata("run", "-d", "--name", name, "base", "sleep", "60").returncode == 0
    detached = strata("exec", "-d", name, "sleep", "77")
    assert detached.returncode == 0
    top = strata("top", name)
    assert "sleep 77" in top.stdout
    assert strata("rm", "-f", name).returncode == 0


def test_container_has_its_own_namespaces_and_hostname(strata):
    out = strata("run", "--rm", "base", "sh", "-c",
              "echo $$; hostname; ls /sys/class/net | sort | tr '\\n' ' '; echo; cat /proc/1/cmdline | tr '\\0' ' '")
    pid, hostname, interfaces, cmdline = out.stdout.splitlines()
    assert pid == "1"
    assert len(hostname) == 12
    assert "lo" in interfaces.split()
    assert cmdline.startswith("sh -c")
