"""Container runtime details the suite does not cover: a real pty for -t, stdin for -i,
exec -d, the namespaces a container gets."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.fixtures import write_busybox_rootfs

STRATA = str(Path(sys.executable).with_name("strata"))


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("runtime")
    env = {**os.environ, "STRATA_ROOT": str(root / "store")}
    rootfs = root / "rootfs.tar"
    write_busybox_rootfs(rootfs)
    assert run(env, "import", str(rootfs), "base:latest").returncode == 0
    yield env
    ids = run(env, "ps", "-aq").stdout.split()
    if ids:
        run(env, "rm", "-f", *ids)


def run(env, *args, **kwargs):
    return subprocess.run([STRATA, *args], env=env, capture_output=True, text=True, timeout=60, **kwargs)


def test_tty_gives_the_container_a_real_terminal(env):
    out = run(env, "run", "--rm", "-t", "base", "sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && echo both; echo $TERM")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.replace("\r", "").split("\n")
    assert lines[0].startswith("/dev/pts/")
    assert lines[1:3] == ["both", "xterm"]


def test_interactive_passes_stdin(env):
    out = run(env, "run", "--rm", "-i", "base", "sh", "-c", "read line; echo got:$line", input="hello\n")
    assert out.stdout == "got:hello\n"


def test_exec_detach_returns_at_once_and_the_process_runs_in_the_container(env):
    name = "exec-detach"
    assert run(env, "run", "-d", "--name", name, "base", "sleep", "60").returncode == 0
    detached = run(env, "exec", "-d", name, "sleep", "77")
    assert detached.returncode == 0
    top = run(env, "top", name)
    assert "sleep 77" in top.stdout
    assert run(env, "rm", "-f", name).returncode == 0


def test_container_has_its_own_namespaces_and_hostname(env):
    out = run(env, "run", "--rm", "base", "sh", "-c",
              "echo $$; hostname; ls /sys/class/net | sort | tr '\\n' ' '; echo; cat /proc/1/cmdline | tr '\\0' ' '")
    pid, hostname, interfaces, cmdline = out.stdout.splitlines()
    assert pid == "1"
    assert len(hostname) == 12
    assert "lo" in interfaces.split()
    assert cmdline.startswith("sh -c")
