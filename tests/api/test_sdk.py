"""The docker SDK for Python (7.x) drives strata through `strata system service` — and the
`strata` CLI sees, stops and removes what the SDK made (one engine, two faces)."""
import io
import urllib.request

import docker
import pytest


@pytest.fixture(scope="module")
def client(service):
    c = docker.DockerClient(base_url=service.url, version="auto", timeout=120)
    yield c
    c.close()


def test_ping_and_version(client):
    assert client.ping() is True
    assert client.version()["ApiVersion"] == "1.41"


def test_build_run_ports_reload_and_rmi_conflict(client, service):
    dockerfile = b"FROM bb\nRUN echo hi > /www/index.html\nEXPOSE 80\n"
    image, log = client.images.build(fileobj=io.BytesIO(dockerfile), tag="cap/py:1", rm=True)
    assert "cap/py:1" in image.tags
    assert any("Successfully built" in chunk.get("stream", "") for chunk in log)

    c = client.containers.run("cap/py:1", "httpd -f -p 80 -h /www", detach=True, name="cap-py",
                              ports={"80/tcp": ("127.0.0.1", None)})
    try:
        c.reload()
        assert c.status == "running"
        binding = c.ports["80/tcp"][0]
        assert binding["HostIp"] == "127.0.0.1" and int(binding["HostPort"]) > 0
        with urllib.request.urlopen(f"http://127.0.0.1:{binding['HostPort']}/", timeout=10) as reply:
            assert reply.read() == b"hi\n"

        with pytest.raises(docker.errors.APIError) as conflict:
            client.api.remove_image("cap/py:1")
        assert conflict.value.status_code == 409
        assert "conflict: unable to remove repository reference" in conflict.value.explanation

        assert c.exec_run("cat /www/index.html") == (0, b"hi\n")
        assert c.exec_run(["sh", "-c", "exit 3"]).exit_code == 3

        # the other face: the CLI lists it and stops it; the SDK sees that
        assert c.id[:12] in service.strata("ps", "-q").stdout.split()
        assert service.strata("stop", "-t", "1", "cap-py").returncode == 0
        c.reload()
        assert c.status == "exited"
    finally:
        c.remove(force=True)
    assert "cap-py" not in service.strata("ps", "-a", "--format", "{{.Names}}").stdout.split()
    removed = client.api.remove_image("cap/py:1")
    assert {"Untagged": "cap/py:1"} in removed
    assert any("Deleted" in r for r in removed)


def test_run_attached_output_and_errors(client):
    assert client.containers.run("bb", "echo hello", remove=True) == b"hello\n"
    with pytest.raises(docker.errors.ContainerError) as failed:
        client.containers.run("bb", ["sh", "-c", "echo oops >&2; exit 4"], remove=True)
    assert failed.value.exit_status == 4
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get("no/such:image")
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("no-such-container")


def test_a_container_the_cli_starts_is_seen_and_removed_by_the_sdk(client, service):
    started = service.strata("run", "-d", "--name", "from-cli", "bb", "sleep", "300")
    assert started.returncode == 0, started.stderr
    c = client.containers.get("from-cli")
    assert c.status == "running" and c.id == started.stdout.strip()
    assert "from-cli" in [x.name for x in client.containers.list()]
    c.remove(force=True)
    assert "from-cli" not in service.strata("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_images_list_and_tag(client):
    image = client.images.get("bb")
    assert image.tag("cap/tagged", "1") is True
    assert "cap/tagged:1" in client.images.get("bb").tags
    assert any("cap/tagged:1" in i.tags for i in client.images.list())
    client.images.remove("cap/tagged:1")
    assert "cap/tagged:1" not in client.images.get("bb").tags


def test_stats_one_reading_paired_and_streamed(client):
    """GET /containers/{id}/stats: stream=false pairs two readings a second apart (precpu
    filled), one-shot does not wait, stream=true sends one per second; a container that does
    not run gives dockerd's empty reading."""
    container = client.containers.run("bb", ["sh", "-c", "sleep 300 & sleep 300 & wait"], detach=True,
                                      mem_limit="64m")
    try:
        paired = container.stats(stream=False)
        assert paired["pids_stats"]["current"] == 3 and paired["memory_stats"]["limit"] == 64 << 20
        assert paired["precpu_stats"]["cpu_usage"]["total_usage"] > 0 and paired["preread"] != paired["read"]
        assert paired["name"] == "/" + container.name and paired["id"] == container.id
        once = container.stats(stream=False, one_shot=True)
        assert once["preread"] == "0001-01-01T00:00:00Z" and once["cpu_stats"]["system_cpu_usage"] > 0
        stream = container.stats(stream=True, decode=True)
        first, second = next(stream), next(stream)
        assert first["precpu_stats"]["cpu_usage"]["total_usage"] == 0
        assert second["precpu_stats"] == first["cpu_stats"]
        stream.close()
    finally:
        container.remove(force=True)
    idle = client.containers.create("bb", "true")
    try:
        empty = idle.stats(stream=False)
        assert (empty["read"], empty["memory_stats"], empty["pids_stats"]) == ("0001-01-01T00:00:00Z", {}, {})
    finally:
        idle.remove()


def test_update_of_limits_and_refusal_of_the_rest(client):
    """POST /containers/{id}/update: the memory limits reach the running container's cgroups
    (the SDK sends no pids limit; the conformance checks cover it through the docker CLI); a
    field strata does not update is refused, never ignored."""
    container = client.containers.run("bb", ["sleep", "300"], detach=True, mem_limit="64m")
    try:
        container.update(mem_limit="128m", memswap_limit="256m")
        host = client.api.inspect_container(container.id)["HostConfig"]
        assert (host["Memory"], host["MemorySwap"]) == (128 << 20, 256 << 20)
        limit = container.exec_run(["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]).output.decode()
        assert limit.strip() == str(128 << 20)
        with pytest.raises(docker.errors.APIError) as refused:
            container.update(blkio_weight=300)
        assert refused.value.status_code == 400 and "BlkioWeight" in str(refused.value)
    finally:
        container.remove(force=True)


def test_log_drivers_through_the_api(client):
    """LogConfig none: nothing kept, logs refused with 501 and dockerd's words; json-file with
    max-size/max-file rotates and logs reads the kept files in order."""
    quiet = client.containers.run("bb", ["echo", "hi"], detach=True, log_config={"type": "none"})
    try:
        quiet.wait()
        with pytest.raises(docker.errors.APIError) as refused:
            quiet.logs()
        assert refused.value.status_code == 501
        assert "configured logging driver does not support reading" in str(refused.value)
    finally:
        quiet.remove()
    script = "i=0; while [ $i -lt 100 ]; do echo line-$i; i=$((i+1)); done"
    rotated = client.containers.run("bb", ["sh", "-c", script], detach=True,
                                    log_config={"type": "json-file", "config": {"max-size": "1k", "max-file": "3"}})
    try:
        rotated.wait()
        lines = rotated.logs().decode().splitlines()
        assert lines[-1] == "line-99" and 10 < len(lines) < 60
        assert [int(line[5:]) for line in lines] == list(range(100 - len(lines), 100))
    finally:
        rotated.remove()


def test_attach_to_a_running_container_takes_stdin_and_gives_output(client, recv_until):
    """A late attach joins the container's shim (not its log): stdin reaches a container made
    with -i, and a container whose log driver is none still shows its output."""
    c = client.containers.run("bb", ["sh", "-c", 'while read line; do echo "got:$line"; done'], detach=True,
                              stdin_open=True, log_config={"type": "none"})
    try:
        sock = c.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        raw = sock._sock
        raw.sendall(b"one\n")
        seen = recv_until(raw, b"got:one\n")
        assert seen.startswith(b"\x01\x00\x00\x00")  # a stdout frame: no TTY
        sock.close()
        c.reload()
        assert c.status == "running"  # leaving ends the attachment, not the container
    finally:
        c.remove(force=True)


@pytest.fixture(params=["docker", "strata"])
def either(request, service):
    """(client, image) on real dockerd (the oracle) and on strata's service, the same busybox."""
    if request.param == "strata":
        c = docker.DockerClient(base_url=service.url, version="auto", timeout=120)
        yield c, "bb"
        c.close()
        return
    import secrets
    import subprocess
    image = f"strata-sdk-bb:{secrets.token_hex(4)}"
    made = subprocess.run(["docker", "import", "--change", 'CMD ["/bin/sh"]', str(service.rootfs), image],
                          capture_output=True, text=True, timeout=120)
    if made.returncode != 0:
        pytest.fail(f"docker import: {made.stderr}")
    c = docker.DockerClient(base_url="unix:///var/run/docker.sock", version="auto", timeout=120)
    try:
        yield c, image
    finally:
        c.images.remove(image, force=True)
        c.close()


def _attach_logs(client, container_id: str, query: str) -> list[tuple[int, bytes]]:
    """POST /containers/{id}/attach?logs=1&… read to its end: the stdcopy frames. (Not the
    SDK's attach: it takes the raw socket after http.client read the 101's headers, and loses
    output that arrived with them — with dockerd too.)"""
    import socket
    import struct
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect(client.api.adapters["http+docker://"].socket_path)
    sock.sendall(f"POST /v1.41/containers/{container_id}/attach?{query} HTTP/1.1\r\nHost: api\r\n"
                 "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n".encode())
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    body = data.split(b"\r\n\r\n", 1)[1]
    frames = []
    while body:
        stream, length = struct.unpack(">BxxxI", body[:8])
        frames.append((stream, body[8:8 + length]))
        body = body[8 + length:]
    return frames


def test_attach_with_logs_replays_what_was_printed(either):
    # attach?logs=1: the output so far (of the streams asked for), framed; then the end
    # without stream=1
    client, image = either
    c = client.containers.run(image, ["sh", "-c", "echo one; echo two >&2"], detach=True)
    try:
        assert c.wait(timeout=60)["StatusCode"] == 0
        both = _attach_logs(client, c.id, "logs=1&stdout=1&stderr=1")
        assert sorted(both) == [(1, b"one\n"), (2, b"two\n")], both
        assert _attach_logs(client, c.id, "logs=1&stdout=1") == [(1, b"one\n")]
    finally:
        c.remove(force=True)
