"""save / load in the docker-archive format, both ways with real Docker (issue 3):
`docker save | strata load` and `strata save | docker load` keep the same image id
(= the config, byte for byte) and the same layers (diff ids)."""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conformance.fixtures import write_busybox_rootfs

STRATA = str(Path(sys.executable).with_name("strata"))
DOCKER_ENV = {**os.environ, "DOCKER_BUILDKIT": "0"}


def sh(argv, env=None, **kwargs):
    result = subprocess.run(argv, env=env or DOCKER_ENV, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture
def engines(tmp_path):
    """A strata store of its own; docker images named strata-interop-<random>, removed after."""
    strata_env = {**os.environ, "STRATA_ROOT": str(tmp_path / "store")}
    name = f"strata-interop-{uuid.uuid4().hex[:10]}"
    rootfs = tmp_path / "rootfs.tar"
    write_busybox_rootfs(rootfs)
    yield strata_env, name, rootfs
    refs = sh(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter",
               f"reference={name}*"]).split()
    if refs:
        subprocess.run(["docker", "rmi", "-f", *refs], capture_output=True)


def inspect(argv, env, ref):
    return json.loads(sh([*argv, "image", "inspect", ref], env=env))[0]


def test_docker_save_then_strata_load_keeps_id_and_layers(engines, tmp_path):
    strata_env, name, rootfs = engines
    sh(["docker", "import", str(rootfs), f"{name}-base:latest"])
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(
        f"FROM {name}-base:latest\nENV A=1\nRUN echo docker-made > /made\nCMD [\"cat\", \"/made\"]\n")
    sh(["docker", "build", "-t", f"{name}-app:v1", str(tmp_path / "ctx")])
    archive = tmp_path / "from-docker.tar"
    sh(["docker", "save", "-o", str(archive), f"{name}-app:v1"])
    loaded = sh([STRATA, "load", "-i", str(archive)], env=strata_env)
    assert loaded.strip() == f"Loaded image: {name}-app:v1"
    theirs, ours = inspect(["docker"], None, f"{name}-app:v1"), inspect([STRATA], strata_env, f"{name}-app:v1")
    assert ours["Id"] == theirs["Id"]
    assert ours["RootFS"]["Layers"] == theirs["RootFS"]["Layers"]
    assert sh([STRATA, "run", "--rm", f"{name}-app:v1"], env=strata_env) == "docker-made\n"


def test_strata_save_then_docker_load_keeps_id_and_layers(engines, tmp_path):
    strata_env, name, rootfs = engines
    sh([STRATA, "import", str(rootfs), f"{name}-base:latest"], env=strata_env)
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(
        f"FROM {name}-base:latest\nRUN echo strata-made > /made && rm /bin/ls\nCMD [\"cat\", \"/made\"]\n")
    sh([STRATA, "build", "-t", f"{name}-app:v1", str(tmp_path / "ctx")], env=strata_env)
    archive = tmp_path / "from-strata.tar"
    sh([STRATA, "save", "-o", str(archive), f"{name}-app:v1"], env=strata_env)
    loaded = sh(["docker", "load", "-i", str(archive)])
    assert f"Loaded image: {name}-app:v1" in loaded
    ours, theirs = inspect([STRATA], strata_env, f"{name}-app:v1"), inspect(["docker"], None, f"{name}-app:v1")
    assert theirs["Id"] == ours["Id"]
    assert theirs["RootFS"]["Layers"] == ours["RootFS"]["Layers"]
    assert sh(["docker", "run", "--rm", f"{name}-app:v1"]) == "strata-made\n"
    # the whiteout for /bin/ls made it through: Docker's container does not see it
    assert subprocess.run(["docker", "run", "--rm", f"{name}-app:v1", "ls", "/"],
                          capture_output=True).returncode != 0
