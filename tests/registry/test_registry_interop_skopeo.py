"""skopeo (containers/image) against the strata registry: inspect, list-tags,
copy registry -> OCI layout -> registry (an OCI manifest push), and registry -> registry."""
import json
import shutil
import subprocess

import pytest

from reference_impl.registry.client import RegistryClient
from registry_helpers import OCI_MANIFEST, push_image

@pytest.fixture(autouse=True)
def _require_skopeo():
    # scripts/setup installs skopeo: a missing one is a failure, not a skip
    assert shutil.which("skopeo"), "skopeo is not installed"


def skopeo(*args):
    __tracebackhide__ = True
    proc = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (args, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


def test_inspect_list_tags_and_copy(registry, tmp_path):
    client = RegistryClient(registry.address)
    digest, config, _ = push_image(client, "sko/src", "v1", {"etc/motd": b"hello skopeo\n"})
    src = f"docker://{registry.address}/sko/src:v1"
    info = json.loads(skopeo("inspect", "--tls-verify=false", src))
    assert info["Digest"] == digest and info["Architecture"] == "amd64"
    raw = skopeo("inspect", "--raw", "--tls-verify=false", src)
    assert json.loads(raw) == json.loads(client.get_manifest("sko/src", "v1")[0])
    assert json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{registry.address}/sko/src"))[
        "Tags"] == ["v1"]
    # registry -> registry (blob mount or upload, manifest put)
    skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false", src,
           f"docker://{registry.address}/sko/copy:v1")
    assert client.manifest_digest("sko/copy", "v1") == digest
    # registry -> OCI layout -> registry as an OCI manifest
    layout = f"oci:{tmp_path / 'layout'}:v1"
    skopeo("copy", "--src-tls-verify=false", src, layout)
    skopeo("copy", "--dest-tls-verify=false", "--format", "oci", layout,
           f"docker://{registry.address}/sko/oci:v1")
    data, media_type, _ = client.get_manifest("sko/oci", "v1")
    assert media_type == OCI_MANIFEST
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{registry.address}/sko/oci:v1"))
    assert info["Layers"] == [json.loads(data)["layers"][0]["digest"]]


def test_copy_from_docker_daemon(registry, tmp_path, unique):
    if subprocess.run(["docker", "version"], capture_output=True).returncode != 0:
        pytest.fail("no docker daemon")
    import io
    import tarfile
    tar_path = tmp_path / "rootfs.tar"
    with tarfile.open(tar_path, "w") as tar:
        info = tarfile.TarInfo("x")
        data = unique.encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    ref = f"{unique}:1"
    subprocess.run(["docker", "import", str(tar_path), ref], check=True, capture_output=True)
    try:
        skopeo("copy", "--dest-tls-verify=false", f"docker-daemon:{ref}",
               f"docker://{registry.address}/{unique}/daemon:1")
        assert RegistryClient(registry.address).tags(f"{unique}/daemon") == ["1"]
    finally:
        subprocess.run(["docker", "rmi", ref], capture_output=True)
