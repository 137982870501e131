"""Bad input to the service: clear errors, the service keeps serving, the store stays
consistent — malformed JSON, unknown endpoints, clients that go away mid-build or
mid-attach, an image removed while a build uses it."""
import io
import json
import socket
import tarfile
import time


def _request(service, method, path, body=b"", headers=None, read=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(str(service.socket))
    head = [f"{method} {path} HTTP/1.1", "Host: api", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    if not read:
        return s
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    status = int(data.split(b" ", 2)[1])
    head, body = data.split(b"\r\n\r\n", 1)
    return status, _dechunk(body) if b"transfer-encoding: chunked" in head.lower() else body


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        n = int(size, 16)
        if n == 0:
            break
        out, body = out + rest[:n], rest[n + 2:]
    return out


def _serving(service):
    status, body = _request(service, "GET", "/_ping")
    return status == 200 and body == b"OK"


def test_ping_answers_ok_and_its_head_an_empty_body_as_dockerd(service):
    assert _request(service, "GET", "/_ping") == (200, b"OK")
    s = _request(service, "HEAD", "/_ping", read=False)
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(65536)
    s.close()
    assert head.startswith(b"HTTP/1.1 200") and b"\r\nContent-Length: 0\r\n" in head, head
    assert b"\r\nApi-Version: 1.41\r\n" in head


def _consistent(service):
    check = service.strata("system", "check", "--quick")
    assert check.returncode == 0, check.stdout + check.stderr


def test_malformed_json_is_a_400_with_a_message(service):
    status, body = _request(service, "POST", "/v1.41/containers/create", b"{not json",
                            {"Content-Type": "application/json"})
    assert status == 400 and "message" in json.loads(body)
    status, body = _request(service, "POST", "/v1.41/containers/create", b"[1, 2]",
                            {"Content-Type": "application/json"})
    assert status == 400
    status, body = _request(service, "POST", "/v1.41/containers/create", b'{"Image": "bb", "Cmd": 5}',
                            {"Content-Type": "application/json"})
    assert status == 400
    status, body = _request(service, "GET", '/v1.41/images/json?filters={"dangling":')
    assert status == 400 and json.loads(body)["message"].startswith("invalid filter")
    assert _serving(service)


def test_unknown_endpoints_and_versions(service):
    for path in ("/nope", "/v1.41/containers/x/frobnicate", "/v1.41/swarm"):
        status, body = _request(service, "GET", path)
        assert status == 404 and json.loads(body) == {"message": "page not found"}
    status, body = _request(service, "GET", "/v9.99/version")
    assert status == 400 and "too new" in json.loads(body)["message"]
    status, body = _request(service, "GET", "/v1.41/containers/no-such/json")
    assert status == 404 and json.loads(body) == {"message": "No such container: no-such"}
    assert _serving(service)


def _context(dockerfile: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _build_workers(service):
    import subprocess
    out = subprocess.run(["pgrep", "-f", f"reference_impl.api.worker build .*{service.root}"],
                         capture_output=True, text=True).stdout
    return out.split()


def test_a_client_leaving_mid_build_stops_the_build(service):
    s = _request(service, "POST", "/v1.41/build?t=gone:1", _context("FROM bb\nRUN sleep 30\n"),
                 {"Content-Type": "application/x-tar"}, read=False)
    data = b""
    while b"Running in" not in data:
        data += s.recv(65536)
    s.close()
    deadline = time.monotonic() + 20
    while _build_workers(service) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _build_workers(service)
    assert _serving(service)
    assert service.strata("image", "inspect", "gone:1").returncode != 0
    _consistent(service)


def test_a_client_leaving_mid_attach_leaves_the_container_running_to_its_end(service):
    status, body = _request(service, "POST", "/v1.41/containers/create?name=leaver",
                            json.dumps({"Image": "bb", "Cmd": ["sh", "-c", "sleep 1; echo done"],
                                        "AttachStdout": True}).encode(),
                            {"Content-Type": "application/json"})
    assert status == 201
    s = _request(service, "POST", "/v1.41/containers/leaver/attach?stream=1&stdout=1&stderr=1",
                 headers={"Connection": "Upgrade", "Upgrade": "tcp"}, read=False)
    assert s.recv(4096).startswith(b"HTTP/1.1 101")
    status, _ = _request(service, "POST", "/v1.41/containers/leaver/start")
    assert status == 204
    s.close()  # gone before the output
    status, body = _request(service, "POST", "/v1.41/containers/leaver/wait")
    assert status == 200 and json.loads(body) == {"Error": None, "StatusCode": 0}
    assert json.loads(service.strata("inspect", "leaver").stdout)[0]["State"]["Status"] == "exited"
    assert service.strata("rm", "leaver").returncode == 0
    assert _serving(service)


def test_an_image_removed_while_a_build_uses_it(service):
    assert service.strata("tag", "bb", "base2:1").returncode == 0
    s = _request(service, "POST", "/v1.41/build?t=on-base2:1",
                 _context("FROM base2:1\nRUN sleep 1\nRUN echo two > /two\n"),
                 {"Content-Type": "application/x-tar"}, read=False)
    data = b""
    while b"Running in" not in data:
        data += s.recv(65536)
    status, body = _request(service, "DELETE", "/v1.41/images/base2:1?force=1")
    assert status == 200, body
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    messages = [json.loads(line) for line in _dechunk(data.split(b"\r\n\r\n", 1)[1]).split(b"\r\n")
                if line.startswith(b"{")]
    assert any("aux" in m for m in messages) or any("errorDetail" in m for m in messages)
    assert _serving(service)
    _consistent(service)
    service.strata("rmi", "-f", "on-base2:1")


# words as dockerd 20.10 gives them (it answers 500; later versions, and strata, 400)
WRONG_TYPES = [
    ({"User": 5}, "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.User of type string"),
    ({"Tty": "yes"}, "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Tty of type bool"),
    ({"Env": "A=1"}, "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Env of type []string"),
    ({"Cmd": [1]}, "json: cannot unmarshal array into Go struct field ContainerConfigWrapper.Cmd of type string"),
    ({"Labels": {"a": 1}},
     "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Labels of type string"),
    ({"HostConfig": {"Memory": "x"}},
     "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64"),
    ({"HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": 5}]}}},
     "json: cannot unmarshal number into Go struct field PortBinding.HostConfig.PortBindings.HostPort of type string"),
    ({"HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "99999"}]}}}, 'invalid port specification: "99999"'),
]


def test_a_body_of_the_wrong_type_is_refused_in_dockerds_words_and_nothing_is_stored(service):
    before = service.strata("ps", "-aq").stdout.split()
    for extra, words in WRONG_TYPES:
        body = json.dumps({"Image": "bb", **extra}).encode()
        status, answer = _request(service, "POST", "/v1.41/containers/create", body,
                                  {"Content-Type": "application/json"})
        assert (status, json.loads(answer)["message"]) == (400, words), extra
    assert service.strata("ps", "-aq").stdout.split() == before
    assert _serving(service)


def test_loading_something_that_is_not_a_tar_is_refused_not_a_500(service):
    for body in (b"", b"garbage, not a tar at all" * 40):
        status, answer = _request(service, "POST", "/v1.41/images/load?quiet=1", body,
                                  {"Content-Type": "application/x-tar"})
        assert status < 500, (status, answer)
        assert b"Traceback" not in answer
        assert b"Error processing tar file" in answer or b"no such file or directory" in answer, answer
    assert _serving(service)


def test_detach_keys_that_name_no_key_are_refused_before_the_upgrade(service, recv_until):
    assert service.strata("run", "-dit", "--name", "keys", "bb", "sh").returncode == 0
    try:
        status, body = _request(service, "POST",
                                "/v1.41/containers/keys/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-")
        assert status == 400
        assert b"Invalid detach keys (ctrl-) provided" in body
        s = _request(service, "POST", "/v1.41/containers/keys/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-a,a",
                     headers={"Connection": "Upgrade", "Upgrade": "tcp"}, read=False)
        assert s.recv(4096).startswith(b"HTTP/1.1 101")
        s.sendall(b"\x10\x11echo still-$((1+1))\n")  # ctrl-p ctrl-q are not the keys now
        recv_until(s, b"still-2")
        s.sendall(b"\x01a")
        while s.recv(4096):  # the service ends the attachment
            pass
        s.close()
        assert json.loads(service.strata("inspect", "keys").stdout)[0]["State"]["Status"] == "running"
    finally:
        service.strata("rm", "-f", "keys")


def test_detach_keys_apply_to_an_attachment_made_before_the_start(service, recv_until):
    """The docker CLI's order (attach, then start): dockerd's escape proxy reads the keys there too,
    and refuses keys that name nothing before the upgrade."""
    assert service.strata("create", "-it", "--name", "early-keys", "bb", "sh").returncode == 0
    try:
        status, body = _request(service, "POST",
                                "/v1.41/containers/early-keys/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-")
        assert (status, b"Invalid detach keys (ctrl-) provided" in body) == (400, True), body
        s = _request(service, "POST",
                     "/v1.41/containers/early-keys/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-a,a",
                     headers={"Connection": "Upgrade", "Upgrade": "tcp"}, read=False)
        assert s.recv(4096).startswith(b"HTTP/1.1 101")
        status, _ = _request(service, "POST", "/v1.41/containers/early-keys/start")
        assert status == 204
        s.sendall(b"\x10\x11echo early-$((2+2))\n")  # ctrl-p ctrl-q are not the keys now
        recv_until(s, b"early-4")
        s.sendall(b"\x01a")
        s.settimeout(20)
        while s.recv(4096):  # the service ends the attachment
            pass
        s.close()
        assert json.loads(service.strata("inspect", "early-keys").stdout)[0]["State"]["Status"] == "running"
        status, body = _request(service, "GET", "/v1.41/containers/early-keys/logs?stdout=1")
        assert b"early-4" in body  # its output goes on to the log
    finally:
        service.strata("rm", "-f", "early-keys")


def test_resize_sizes_a_terminal_or_is_refused_in_dockerds_words(service):
    # as dockerd 20.10 answered the same requests (curl on its socket)
    tty = service.strata("run", "-d", "-t", "bb", "sleep", "60").stdout.strip()
    plain = service.strata("run", "-d", "bb", "sleep", "60").stdout.strip()
    try:
        assert _request(service, "POST", f"/containers/{tty}/resize?h=33&w=77")[0] == 200
        assert service.strata("exec", tty, "stty", "-F", "/dev/console", "size").stdout == "33 77\n"
        assert _request(service, "POST", f"/containers/{plain}/resize?h=33&w=77")[0] == 200  # no terminal
        for query, text in (("h=x&w=77", "x"), ("w=77", "")):
            status, body = _request(service, "POST", f"/containers/{tty}/resize?{query}")
            assert (status, json.loads(body)["message"]) == (400, f'strconv.Atoi: parsing "{text}": invalid syntax')
        assert service.strata("exec", tty, "stty", "-F", "/dev/console", "size").stdout == "33 77\n"
        status, body = _request(service, "POST", "/exec/nope/resize?h=3&w=4")
        assert (status, json.loads(body)["message"]) == (404, "No such exec instance: nope")
        status, body = _request(service, "POST", f"/containers/{tty}/exec",
                                json.dumps({"Cmd": ["true"], "Tty": True}).encode(),
                                {"Content-Type": "application/json"})
        exec_id = json.loads(body)["Id"]
        status, body = _request(service, "POST", f"/exec/{exec_id}/resize?h=3&w=4")
        assert (status, json.loads(body)["message"]) == (500, "timeout waiting for exec session ready")
        assert service.strata("stop", "-t", "0", plain).returncode == 0
        status, body = _request(service, "POST", f"/containers/{plain}/resize?h=33&w=77")
        assert (status, json.loads(body)["message"]) == (409, f"Container {plain} is not running")
    finally:
        service.strata("rm", "-f", tty, plain)


def test_build_parameters_the_builder_would_ignore_are_refused(service):
    # a classic build with another network, a memory limit or extra hosts is refused, not run
    # without them; their values that ask for nothing are taken
    for query in ("networkmode=host", "memory=1048576", "extrahosts=a%3A127.0.0.1", "squash=1"):
        status, body = _request(service, "POST", f"/build?t=refused:1&{query}", b"",
                                {"Content-Type": "application/x-tar"})
        name = query.split("=")[0]
        assert status == 400 and name in json.loads(body)["message"], (query, status, body)
    assert "refused:1" not in service.strata("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
