"""The shim's attach socket (lifecycle/attach_point.py) on a real container, and the detach
keys as dockerd reads them."""
import socket

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from reference_impl.engine.containers import ContainerService
from reference_impl.errors import Conflict, InvalidArgument
from reference_impl.lifecycle import attach_point, detach_keys
from reference_impl.store import Store


def _read_until(sock: socket.socket, wanted: bytes, limit: int = 50) -> bytes:
    sock.settimeout(10)
    seen = b""
    for _ in range(limit):
        got = attach_point.read_frame(sock)
        assert got is not None, seen
        seen += got[1]
        if wanted in seen:
            return seen
    raise AssertionError(seen)


def test_two_clients_see_the_output_and_either_feeds_stdin(strata_at, tmp_path, rootfs):
    # a store root deep enough that attach.sock's full path is over a socket address's 108 bytes
    root = tmp_path / ("d" * 60) / "store"
    strata = strata_at(root)
    assert strata("import", rootfs, "base:latest").returncode == 0
    try:
        run = strata("run", "-di", "--name", "echoer", "base", "sh", "-c",
                     'while read line; do echo "got:$line"; done')
        assert run.returncode == 0, run.stderr
        service = ContainerService(Store(root))
        assert len(str(service.get("echoer").dir / attach_point.SOCKET_NAME)) > 108
        first = service.attach("echoer", stdin=True, stdout=True, stderr=True)
        second = service.attach("echoer", stdin=False, stdout=True, stderr=False)
        with first, second:
            first.sendall(b"one\n")
            assert b"got:one\n" in _read_until(first, b"got:one\n")
            assert b"got:one\n" in _read_until(second, b"got:one\n")
            second.sendall(b"ignored\n")  # it did not ask for stdin
            first.sendall(b"two\n")
            assert _read_until(second, b"got:two\n") == b"got:two\n"
        strata("kill", "echoer")
        with pytest.raises(Conflict, match="is not running"):
            service.attach("echoer", stdin=True, stdout=True, stderr=True)
    finally:
        strata.remove_all_containers()


def test_a_client_that_leaves_does_not_stop_the_output_of_the_others(strata):
    assert strata("run", "-d", "--name", "ticker", "base", "sh", "-c",
                  "i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.05; done").returncode == 0
    service = ContainerService(Store(strata.root))
    leaving = service.attach("ticker", stdin=False, stdout=True, stderr=True)
    staying = service.attach("ticker", stdin=False, stdout=True, stderr=True)
    _read_until(leaving, b"tick-")
    leaving.close()
    with staying:
        _read_until(staying, b"tick-")
        seen = _read_until(staying, b"\n", 40)  # frames go on arriving
        assert b"tick-" in seen


def test_clients_that_come_and_go_while_output_flows_never_stop_the_shim(strata):
    """A client's end and a frame sent to it can be events of the same wait: the shim must
    skip the stale one (it crashed on it, and the container's process went with it)."""
    assert strata("run", "-d", "--name", "busy", "base", "sh", "-c",
                  "while :; do echo tick; done").returncode == 0
    service = ContainerService(Store(strata.root))
    for _ in range(60):
        sock = service.attach("busy", stdin=False, stdout=True, stderr=True)
        sock.settimeout(10)  # a shim that died or hangs fails the test, not the run
        attach_point.read_frame(sock)
        sock.close()
    assert service.get("busy").running
    with service.attach("busy", stdin=False, stdout=True, stderr=True) as sock:
        assert b"tick" in _read_until(sock, b"tick")


def test_the_shim_ends_every_attachment_when_the_process_exits(strata):
    assert strata("run", "-di", "--name", "short", "base", "sh", "-c", "read x; echo bye; exit 7").returncode == 0
    service = ContainerService(Store(strata.root))
    with service.attach("short", stdin=True, stdout=True, stderr=True) as sock:
        sock.sendall(b"go\n")
        assert attach_point.read_frame(sock) == (attach_point.STDOUT, b"bye\n")
        assert attach_point.read_frame(sock) is None
    assert service.wait("short") == 7


@pytest.mark.parametrize("text,keys", [("", b"\x10\x11"), ("ctrl-a,a", b"\x01a"), ("ctrl-@,ctrl-_", b"\x00\x1f"),
                                       ("CTRL-P,x", b"\x10x")])
def test_detach_keys_are_read_as_dockerd_reads_them(text, keys):
    assert detach_keys.parse(text) == keys


@pytest.mark.parametrize("text", ["ctrl-", "ab", "ctrl-1", "a,,b"])
def test_detach_keys_that_name_no_key_are_refused_in_dockerds_words(text):
    with pytest.raises(InvalidArgument, match=rf"^Invalid detach keys \({text}\) provided$"):
        detach_keys.parse(text)


@given(st.lists(st.lists(st.sampled_from([0x10, 0x11, 0x61])).map(bytes), max_size=8))
@example([b"\x10\x10\x11"])
@example([b"a\x10", b"\x11b"])
def test_the_escape_proxy_passes_everything_but_the_sequence(chunks):
    keys = b"\x10\x11"
    proxy = detach_keys.EscapeProxy(keys)
    passed = b""
    for chunk in chunks:
        out, detached = proxy.feed(chunk)
        passed += out
        if detached:
            whole = b"".join(chunks)
            assert keys in whole and passed == whole[:whole.index(keys)]
            return
    whole = b"".join(chunks)
    assert keys not in whole
    assert passed + proxy.held == whole
