"""The docker SDK's volume and archive calls against strata's Engine API, and the CLI
seeing the same volumes (one engine, two faces)."""
import io
import tarfile

import docker
import pytest


@pytest.fixture(scope="module")
def client(service):
    c = docker.DockerClient(base_url=service.url, version="auto", timeout=120)
    yield c
    c.close()


def test_volume_calls(client, service):
    volume = client.volumes.create("sdk-vol", labels={"tier": "db"})
    try:
        assert volume.attrs["Driver"] == "local" and volume.attrs["Labels"] == {"tier": "db"}
        assert client.volumes.get("sdk-vol").attrs["Mountpoint"].endswith("/volumes/sdk-vol/_data")
        assert [v.name for v in client.volumes.list(filters={"label": "tier=db"})] == ["sdk-vol"]
        assert "sdk-vol" in service.strata("volume", "ls", "-q").stdout.split()
        container = client.containers.create("bb", "true", volumes={"sdk-vol": {"bind": "/data", "mode": "rw"}})
        with pytest.raises(docker.errors.APIError) as in_use:
            volume.remove()
        assert in_use.value.status_code == 409
        assert f"volume is in use - [{container.id}]" in str(in_use.value)
        mounts = client.api.inspect_container(container.id)["Mounts"]
        assert [(m["Type"], m["Name"], m["Destination"]) for m in mounts] == [("volume", "sdk-vol", "/data")]
        container.remove()
        pruned = client.volumes.prune(filters={"label": "tier=db"})
        assert pruned["VolumesDeleted"] == ["sdk-vol"]
    finally:
        service.strata("volume", "rm", "-f", "sdk-vol")
    with pytest.raises(docker.errors.NotFound):
        client.volumes.get("sdk-vol")


def test_archive_calls(client):
    container = client.containers.run("bb", ["sh", "-c", "mkdir /src && echo a > /src/a"], detach=True)
    try:
        container.wait()
        stream, stat = container.get_archive("/src")
        assert stat["name"] == "src" and stat["mode"] & (1 << 31)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            assert sorted(tar.getnames()) == ["src", "src/a"]
        upload = io.BytesIO()
        with tarfile.open(fileobj=upload, mode="w") as tar:
            info = tarfile.TarInfo("put/b")
            info.size = 2
            tar.addfile(info, io.BytesIO(b"b\n"))
        assert container.put_archive("/src", upload.getvalue()) is True
        stream, _ = container.get_archive("/src/put/b")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            assert tar.extractfile("b").read() == b"b\n"
        with pytest.raises(docker.errors.NotFound):
            container.get_archive("/nope")
    finally:
        container.remove(v=True)


def test_volumes_from_through_the_api(client):
    """HostConfig.VolumesFrom is applied (it was accepted and ignored): the volumes of the
    other container, read-only with :ro; an unknown container is a bad parameter (400, so
    the docker CLI does not go pulling the image), an anonymous volume another container
    mounts outlives rm -v."""
    source = client.containers.create("bb", "true", volumes=["/anon"])
    try:
        taker = client.containers.create("bb", "true", volumes_from=[f"{source.id}:ro"])
        shown = client.api.inspect_container(taker.id)
        assert shown["HostConfig"]["VolumesFrom"] == [f"{source.id}:ro"]
        anonymous = client.api.inspect_container(source.id)["Mounts"][0]["Name"]
        assert [(m["Name"], m["Destination"], m["RW"]) for m in shown["Mounts"]] == [(anonymous, "/anon", False)]
        taker.remove(v=True)
        assert client.volumes.get(anonymous).name == anonymous
        with pytest.raises(docker.errors.APIError) as unknown:
            client.containers.create("bb", "true", volumes_from=["no-such-source"])
        assert unknown.value.status_code == 400 and "No such container: no-such-source" in str(unknown.value)
    finally:
        source.remove(v=True)
    with pytest.raises(docker.errors.NotFound):
        client.volumes.get(anonymous)


def test_system_df_through_the_api(client):
    """GET /system/df: dockerd's document — layers, images with their shared size and
    containers, containers with their own layer's size, volumes with UsageData."""
    volume = client.volumes.create("sdk-df")
    container = client.containers.run("bb", ["sh", "-c", "head -c 5000 /dev/zero > /v/f; echo x > /own"],
                                      volumes={"sdk-df": {"bind": "/v", "mode": "rw"}}, detach=True)
    try:
        container.wait()
        usage = client.df()
        assert set(usage) >= {"LayersSize", "Images", "Containers", "Volumes", "BuildCache"}
        mine = next(v for v in usage["Volumes"] if v["Name"] == "sdk-df")
        assert mine["UsageData"] == {"Size": 5000, "RefCount": 1}
        shown = next(c for c in usage["Containers"] if c["Id"] == container.id)
        assert shown["SizeRw"] > 0 and shown["SizeRootFs"] > shown["SizeRw"]
        image = next(i for i in usage["Images"] if i["Id"] == shown["ImageID"])
        assert image["Containers"] >= 1 and 0 <= image["SharedSize"] <= image["Size"]
    finally:
        container.remove()
        volume.remove()
