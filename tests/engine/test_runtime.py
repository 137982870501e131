"""Container runtime details the suite does not cover: a real pty for -t, stdin for -i,
exec -d, the namespaces a container gets, what `run --rm` leaves."""
import time


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


def test_run_rm_returns_with_the_container_gone_and_its_files_deleted_soon_after(strata):
    """The shim reports an --rm exit once the container is out of the store (its files are
    deleted after the report, off the starter's path): when `run --rm` returns nothing lists
    it, its name is free at once, and no scratch copy of it outlives the shim."""
    name = "rm-gone"
    for _ in range(2):  # the second run takes the name the first freed
        out = strata("run", "--rm", "--name", name, "base", "sh", "-c", "echo out; exit 3")
        assert (out.returncode, out.stdout) == (3, "out\n"), out.stderr
        assert strata("ps", "-a", "-q", "--filter", f"name={name}").stdout == ""
        assert not [d for d in (strata.root / "containers").iterdir() if not d.name.startswith(".")]
    deadline = time.monotonic() + 30
    while any((strata.root / "tmp").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list((strata.root / "tmp").iterdir())
