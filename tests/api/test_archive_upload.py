"""PUT /containers/{id}/archive: the body is unpacked while it arrives (engine.copying.Growth).
A slow upload is unpacked whole, a cut one ends the extraction without hanging it, and an
error found early still reaches the client after its whole body."""
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

STRATA = str(Path(sys.executable).with_name("strata"))


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _put(service, container: str, path: str, body: bytes, piece: int = 1 << 20, pause: float = 0.0,
         cut_after: int | None = None):
    """A chunked PUT sent piece by piece; (status, body), or None when cut_after bytes were sent
    and the connection closed."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(str(service.socket))
    s.sendall((f"PUT /v1.41/containers/{container}/archive?path={path} HTTP/1.1\r\nHost: api\r\n"
               "Content-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode())
    sent = 0
    for start in range(0, len(body), piece):
        chunk = body[start:start + piece]
        s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sent += len(chunk)
        if cut_after is not None and sent >= cut_after:
            s.close()
            return None
        time.sleep(pause)
    s.sendall(b"0\r\n\r\n")
    answer = b""
    while chunk := s.recv(65536):
        answer += chunk
    s.close()
    head, _, rest = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), rest


@pytest.fixture
def stopped(service):
    made = service.strata("create", "bb", "true")
    assert made.returncode == 0, made.stderr
    cid = made.stdout.strip()
    yield cid
    service.strata("rm", "-f", cid)


def _digest(service, cid: str, path: str) -> str:
    out = subprocess.run([STRATA, "cp", f"{cid}:{path}", "-"], env=service.env, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    with tarfile.open(fileobj=io.BytesIO(out.stdout)) as tar:
        return hashlib.sha256(tar.extractfile(tar.getmembers()[0]).read()).hexdigest()


def test_a_slow_upload_is_unpacked_whole(service, stopped):
    files = {f"up/f{i}": os.urandom(3 << 20) for i in range(4)}
    status, answer = _put(service, stopped, "/", _tar(files), piece=256 << 10, pause=0.01)
    assert (status, answer) == (200, b"")
    for name, data in files.items():
        assert _digest(service, stopped, "/" + name) == hashlib.sha256(data).hexdigest(), name


def test_a_cut_upload_ends_its_extraction_and_the_service_goes_on(service, stopped):
    files = {f"cut/f{i}": os.urandom(1 << 20) for i in range(8)}
    assert _put(service, stopped, "/", _tar(files), piece=512 << 10, cut_after=3 << 20) is None
    # the extraction ended with the upload: the container's files can be written at once
    status, _ = _put(service, stopped, "/", _tar({"after/ok": b"ok\n"}))
    assert status == 200
    assert service.strata("cp", f"{stopped}:/after/ok", "-").returncode == 0
    deadline = time.monotonic() + 10
    while extractions := [p for p in os.listdir("/proc") if p.isdigit() and _is_child_of_service(service, p)]:
        assert time.monotonic() < deadline, f"an extraction outlived its upload: {extractions}"
        time.sleep(0.1)


def _is_child_of_service(service, pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        with open(service.root / "api" / "service.pid") as pidfile:
            return ppid == int(pidfile.read())
    except (OSError, ValueError):
        return False


def test_an_extraction_error_reaches_the_client_after_its_whole_body(service, stopped):
    status, answer = _put(service, stopped, "/etc/passwd", _tar({"x/big": os.urandom(8 << 20)}))
    assert (status, json.loads(answer)) == (400, {"message": "extraction point is not a directory"})
