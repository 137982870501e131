"""SIGKILL at random points of import, commit and run never corrupts the store (issue 3).

50 times: start one of those operations with the real `strata` CLI on a store of
its own and kill it with SIGKILL after a random delay. Then `strata system check`
must find no corruption, and every image in the store must still run.
"""
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.fixtures import write_busybox_rootfs

STRATA = str(Path(sys.executable).with_name("strata"))
KILLS = 50


@pytest.fixture
def store(tmp_path):
    root = tmp_path / "store"
    env = {**os.environ, "STRATA_ROOT": str(root)}
    yield env
    ids = subprocess.run([STRATA, "ps", "-aq"], env=env, capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run([STRATA, "rm", "-f", *ids], env=env, capture_output=True)


def strata(env, *args, **kwargs):
    return subprocess.run([STRATA, *args], env=env, capture_output=True, text=True, **kwargs)


def test_sigkill_during_import_commit_and_run_leaves_a_consistent_store(store, tmp_path):
    rootfs = tmp_path / "rootfs.tar"
    write_busybox_rootfs(rootfs)
    with open(rootfs, "rb") as f:
        assert strata(store, "import", "-", "base:latest", stdin=f).returncode == 0
    assert strata(store, "run", "--name", "source", "base", "sh", "-c", "echo changed > /etc/motd; rm /bin/ls").returncode == 0
    rng = random.Random(20261127)
    outcomes = {"import": 0, "commit": 0, "run": 0}
    for i in range(KILLS):
        op = rng.choice(sorted(outcomes))
        args = {"import": ["import", str(rootfs), f"imported:{i}"],
                "commit": ["commit", "source", f"committed:{i}"],
                "run": ["run", "--name", f"run{i}", "base", "sh", "-c", "echo hi > /x"]}[op]
        proc = subprocess.Popen([STRATA, *args], env=store, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        outcomes[op] += 1
    check = strata(store, "system", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "store is consistent" in check.stdout
    images = strata(store, "images", "-q", "--no-trunc").stdout.split()
    assert images, "no image survived"
    for image in dict.fromkeys(images):
        ran = strata(store, "run", "--rm", image, "true")
        assert ran.returncode == 0, f"{image}: {ran.stderr}"
    assert all(outcomes.values()), outcomes


def test_system_check_finds_corruption(store, tmp_path):
    rootfs = tmp_path / "rootfs.tar"
    write_busybox_rootfs(rootfs)
    with open(rootfs, "rb") as f:
        strata(store, "import", "-", "base:latest", stdin=f)
    root = Path(store["STRATA_ROOT"])
    layer_tar = next((root / "layers").iterdir()) / "layer.tar"
    with open(layer_tar, "r+b") as f:
        f.seek(600)
        f.write(b"corrupt")
    check = strata(store, "system", "check")
    assert check.returncode == 1
    assert "tar does not hash to its diff id" in check.stdout
