"""SIGKILL at random points of import, commit and run never corrupts the store (issue 3).

50 times: start one of those operations with the real `strata` CLI on a store of
its own and kill it with SIGKILL after a random delay. Then `strata system check`
must find no corruption, and every image in the store must still run.
"""
import random
import signal
import subprocess
import time

KILLS = 50


def test_sigkill_during_import_commit_and_run_leaves_a_consistent_store(strata, rootfs):
    assert strata("run", "--name", "source", "base", "sh", "-c", "echo changed > /etc/motd; rm /bin/ls").returncode == 0
    rng = random.Random(20261127)
    outcomes = {"import": 0, "commit": 0, "run": 0}
    for i in range(KILLS):
        op = rng.choice(sorted(outcomes))
        args = {"import": ["import", str(rootfs), f"imported:{i}"],
                "commit": ["commit", "source", f"committed:{i}"],
                "run": ["run", "--name", f"run{i}", "base", "sh", "-c", "echo hi > /x"]}[op]
        proc = subprocess.Popen([strata.binary, *args], env=strata.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        outcomes[op] += 1
    check = strata("system", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "store is consistent" in check.stdout
    images = strata("images", "-q", "--no-trunc").stdout.split()
    assert images, "no image survived"
    for image in dict.fromkeys(images):
        ran = strata("run", "--rm", image, "true")
        assert ran.returncode == 0, f"{image}: {ran.stderr}"
    assert all(outcomes.values()), outcomes


def test_system_check_finds_corruption(strata):
    root = strata.root
    layer_tar = next((root / "layers").iterdir()) / "layer.tar"
    with open(layer_tar, "r+b") as f:
        f.seek(600)
        f.write(b"corrupt")
    check = strata("system", "check")
    assert check.returncode == 1
    assert "tar does not hash to its diff id" in check.stdout
