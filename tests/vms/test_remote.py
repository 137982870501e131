"""The harness across an SSH connection, without a VM: which paths a command names,
what the mirror copies (through a stand-in SFTP that writes below another directory),
and the vagrant:<name> records."""
import dataclasses
import os
import shutil
import socket
import subprocess
import threading
import types
from pathlib import Path

import paramiko
import pytest

from conformance import impls, remote
from conformance.impls import hosts


class FakeSftp:
    """paramiko.SFTPClient's calls the bridge makes, onto `root` + path."""

    def __init__(self, root: Path):
        self.root = root

    def _p(self, path):
        return str(self.root) + path

    def mkdir(self, path):
        os.mkdir(self._p(path))

    def stat(self, path):
        return os.stat(self._p(path))

    def chmod(self, path, mode):
        os.chmod(self._p(path), mode)

    def put(self, local, path):
        shutil.copyfile(local, self._p(path))

    def utime(self, path, times):
        os.utime(self._p(path), times)

    def symlink(self, target, path):
        os.symlink(target, self._p(path))

    def posix_rename(self, old, new):
        os.rename(self._p(old), self._p(new))


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    # the harness's own shared roots and exposed ports are the run's: a VM check of this
    # worker may have added some (its base directory, its registries); none of them here
    monkeypatch.setattr(remote, "_ROOTS", set())
    monkeypatch.setattr(remote, "_EXPOSED", set())
    local, far = tmp_path / "local", tmp_path / "far"
    local.mkdir()
    far.mkdir()
    far.joinpath(str(far)[1:]).mkdir(parents=True)  # what exists there already
    for ancestor in [local, *local.parents]:
        far.joinpath(str(ancestor)[1:]).mkdir(parents=True, exist_ok=True)

    host = types.SimpleNamespace(run=lambda cmd: subprocess.run(
        cmd.replace("-- '", f"-- '{far}"), shell=True))
    bridge = remote.Bridge(host)
    bridge._sftp = FakeSftp(far)
    remote.share(local)
    yield local, far, bridge


def test_paths_are_found_whole_and_only_below_a_shared_root(mirror):
    local, _, bridge = mirror
    cmd = (f"env DOCKER_CONFIG={local}/c1/client-config timeout -k 5 180 docker build -t x {local}/c1/ctx1 "
           f"< {local}/rootfs.tar; docker run -v {local}/data:/data; ls {local}0/not-ours /tmp/other")
    assert bridge._paths_in(cmd) == [f"{local}/c1/client-config", f"{local}/c1/ctx1",
                                     f"{local}/rootfs.tar", f"{local}/data"]


def test_mirror_copies_changes_with_mode_and_mtime_and_mirrors_deletions(mirror):
    local, far, bridge = mirror
    ctx = local / "ctx1"
    (ctx / "sub").mkdir(parents=True)
    (ctx / "Dockerfile").write_text("FROM x\n")
    (ctx / "sub" / "tool.sh").write_text("echo hi\n")
    os.chmod(ctx / "sub" / "tool.sh", 0o751)
    os.utime(ctx / "Dockerfile", (1_000_000_000, 1_000_000_000))
    bridge.stage(f"docker build {ctx}")
    there = far / str(ctx)[1:]
    assert (there / "Dockerfile").read_text() == "FROM x\n"
    assert os.stat(there / "Dockerfile").st_mtime == 1_000_000_000
    assert os.stat(there / "sub" / "tool.sh").st_mode & 0o777 == 0o751
    (ctx / "Dockerfile").write_text("FROM y\n")
    shutil.rmtree(ctx / "sub")
    (there / "written-there").write_text("output of the CLI")  # never ours to delete
    bridge.stage(f"docker build {ctx}")
    assert (there / "Dockerfile").read_text() == "FROM y\n"
    assert not (there / "sub").exists()
    assert (there / "written-there").exists()


def test_an_output_path_gets_its_directory(mirror):
    local, far, bridge = mirror
    (local / "t0").mkdir()
    bridge.stage(f"docker save -o {local}/t0/saved-1.tar img")
    assert (far / str(local)[1:] / "t0").is_dir()
    assert not (far / str(local)[1:] / "t0" / "saved-1.tar").exists()


@pytest.mark.parametrize("name", ["strata", "docker"])
def test_vagrant_record_is_the_local_record_on_another_host(name):
    local, inside = impls.load(name), impls.load(f"vagrant:{name}")
    assert inside.name == f"vagrant:{name}"
    for same in ("argv", "env", "messages", "expectations", "config_dir_env", "build_flags",
                 "fingerprint_args", "capabilities"):
        assert getattr(inside, same) == getattr(local, same)
    assert inside.host_url != "local://" and inside.has("private-instance")
    assert not inside.host.is_local and inside.inner == local


def test_vagrant_names_are_known_but_never_chosen_by_default():
    assert impls.is_known("vagrant:strata") and not impls.is_known("vagrant:nope")
    assert not any(":" in name for name in impls.known_names())


def test_a_record_with_a_per_run_set_up_here_says_why_it_is_missing_in_the_vm():
    record = impls.load("vagrant:podman")
    assert record.prepare("strata-test-run") is record  # no VM acquired for it
    assert "per-run set-up" in record.missing_reason()


class RecordingHost(hosts.Local):
    """This machine, as a host that is not `local://`: every command it runs is recorded."""

    def run(self, argv, env=None, timeout=hosts.DEFAULT_TIMEOUT, input=None):
        self.commands.append(list(argv))
        return super().run(argv, env=env, timeout=timeout, input=input)


def test_a_vagrant_private_instance_is_the_inner_ones_made_on_the_vms_host(tmp_path):
    """No private-instance code of its own: the inner implementation's, through the wrapper's
    host's primitives (here a stand-in for the VM's host that runs on this machine)."""
    host = RecordingHost(url="recording://vm")
    object.__setattr__(host, "commands", [])
    record = dataclasses.replace(impls.load("vagrant:strata"), host=host)
    with record.private_instance("strata-test-private") as private:
        assert private.name == "vagrant:strata" and private.host is host
        root = private.env["STRATA_ROOT"].removesuffix("/store")
        assert root.startswith("/tmp/strata-test-private-") and Path(root).is_dir()
        made = private.run(("images", "-q"))
        assert made.rc == 0, made
    assert not Path(root).exists()
    assert any("mktemp" in " ".join(c) for c in host.commands)
    assert any("rm -rf" in " ".join(c) for c in host.commands)


@pytest.mark.parametrize("name", ["strata", "docker"])
def test_a_vagrant_private_instance_runs_through_a_testinfra_host(name):
    """The same private-instance code through testinfra's command path (the one a VM's
    paramiko host takes: env, timeout and quoting in one shell string), on this machine."""
    record = dataclasses.replace(impls.load(f"vagrant:{name}"), host=hosts.Testinfra("local://"))
    with record.private_instance("strata-test-private") as private:
        assert private.name == f"vagrant:{name}"
        made = private.run(("images", "-q"), timeout=60)
        assert made.rc == 0 and made.stdout == "", made
        root = ([v for v in private.env.values() if "strata-test-private-" in v][0]
                .removeprefix("unix://").rsplit("/", 1)[0])
        assert Path(root).is_dir()
    assert not Path(root).exists()
    if name == "docker":  # the private dockerd is gone with its directory
        assert subprocess.run(["pgrep", "-f", root], capture_output=True).returncode == 1


# --- services of this machine forwarded into the remote host (ssh -R), over real SSH -------

class _ForwardingServer:
    """The remote end of one SSH connection, in this process (paramiko's server side):
    accepts any auth and every remote-forward request; `connect(port)` is a client on
    the remote host connecting to its forwarded 127.0.0.1:port."""

    def __init__(self, sock):
        class Interface(paramiko.ServerInterface):
            def get_allowed_auths(self, username):
                return "none"

            def check_auth_none(self, username):
                return paramiko.AUTH_SUCCESSFUL

            def check_port_forward_request(self, address, port):
                return port

        self.transport = paramiko.Transport(sock)
        self.transport.add_server_key(paramiko.RSAKey.generate(1024))
        self.transport.start_server(server=Interface())

    def connect(self, port: int) -> bytes:
        channel = self.transport.open_forwarded_tcpip_channel(("127.0.0.1", 40000), ("127.0.0.1", port))
        channel.settimeout(10)
        channel.sendall(b"who?\n")  # the service answers only then: the channel cannot close before it is open
        data = b""
        while chunk := channel.recv(1024):
            data += chunk
        channel.close()
        return data


def _named_server(name: bytes):
    """A TCP server on 127.0.0.1 that answers the next connections' question with its name."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve():
        with listener:
            for _ in range(3):
                conn, _ = listener.accept()
                with conn:
                    conn.recv(16)
                    conn.sendall(name)
    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def test_each_forwarded_port_reaches_its_own_service():
    """paramiko keeps one forward handler per connection (the last one asked for, and
    cancelling any forward drops it): a connection to the first forwarded port must still
    reach the first service, and cancelling one forward must leave the others working."""
    first, second = _named_server(b"first"), _named_server(b"second")
    client_sock, server_sock = socket.socketpair()
    result = {}
    starting = threading.Thread(target=lambda: result.setdefault("server", _ForwardingServer(server_sock)))
    starting.start()
    client = paramiko.Transport(client_sock)
    client.connect()
    client.auth_none("root")
    starting.join(10)
    host = types.SimpleNamespace(backend=types.SimpleNamespace(
        client=types.SimpleNamespace(get_transport=lambda: client)))
    bridge = remote.Bridge(host)
    try:
        bridge._forward(first)
        bridge._forward(second)
        assert result["server"].connect(first) == b"first"
        assert result["server"].connect(second) == b"second"
        bridge.unforward(first)
        assert result["server"].connect(second) == b"second"
    finally:
        client.close()
        result["server"].transport.close()
