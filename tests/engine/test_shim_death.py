"""A container whose shim is killed (issue 16): reported as exited (137) with the reason in
State.Error, its process gone, its published port closed (a client is refused, never left
hanging), and `stop` and `rm` work."""
import json
import os
import signal
import time
import urllib.request

import pytest
from reference_impl.ownership import process_alive


def _listening_inodes(port: int) -> set[str]:
    """Inodes of the sockets listening on 127.0.0.1:port (/proc/net/tcp, state 0A)."""
    inodes = set()
    with open("/proc/net/tcp") as table:
        for line in list(table)[1:]:
            fields = line.split()
            if fields[1] == f"0100007F:{port:04X}" and fields[3] == "0A":
                inodes.add(fields[9])
    return inodes


def _holders(inodes: set[str]) -> list[int]:
    """Processes with a descriptor on one of those sockets."""
    wanted = {f"socket:[{inode}]" for inode in inodes}
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in wanted for fd in os.listdir(f"/proc/{pid}/fd")):
                found.append(int(pid))
        except OSError:
            continue
    return found


@pytest.fixture
def web(strata):
    started = strata("run", "-d", "--name", "web", "-p", "127.0.0.1::80", "base", "sh", "-c",
                     "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 80 -h /www")
    assert started.returncode == 0, started.stderr
    port = int(strata("port", "web", "80").stdout.strip().rsplit(":", 1)[1])
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                assert response.read() == b"hello\n"
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return port


def test_a_killed_shim_is_noticed(strata, web):
    state = json.loads((strata.root / "containers" / strata.inspect("web")["Id"] / "state.json").read_text())
    shim_pid, pid = state["ShimPid"], state["Pid"]
    listening = _listening_inodes(web)
    assert listening and _holders(listening)
    os.kill(shim_pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while process_alive(shim_pid) and time.monotonic() < deadline:
        time.sleep(0.05)

    # the listener died with its shim (another test may bind the port next: look at the socket)
    assert not _holders(listening), "the published port's socket outlived the shim"

    ps = strata("ps", "-a", "--filter", "name=web", "--format", "{{.Status}}")
    assert ps.stdout.startswith("Exited (137)"), ps.stdout
    assert strata("ps", "-q").stdout.split() == []
    info = strata.inspect("web")["State"]
    assert (info["Status"], info["Running"], info["ExitCode"]) == ("exited", False, 137)
    assert "shim" in info["Error"]
    deadline = time.monotonic() + 5
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(pid), "the container's process outlived its shim"

    stopped = strata("stop", "web")
    assert stopped.returncode == 0, stopped.stderr
    assert strata.inspect("web")["State"]["Status"] == "exited"
    removed = strata("rm", "web")
    assert removed.returncode == 0, removed.stderr
    assert strata("ps", "-aq").stdout.split() == []
