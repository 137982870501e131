"""SIGKILL at random points never corrupts the store and never leaves staging behind (issues 3, 16).

200 times: start one of build, push, pull, load, commit, rmi, run with the real `strata`
CLI on a store of its own and kill it with SIGKILL after a random delay. What a killed
operation left (staging files, half-made containers, a killed build's intermediate
containers) is removed by the next command that takes the store lock; after one more
such command `strata system check` finds nothing, tmp/ is empty, no build container is
left, and every image in the store still runs.
"""
import json
import random
import re
import signal
import subprocess
import sys
import time

import pytest

KILLS = 200
LISTENING = re.compile(rb"listening on (\S+):(\d+)")


@pytest.fixture
def registry(tmp_path):
    """strata's own registry on 127.0.0.1:0 (the address read from its log line)."""
    proc = subprocess.Popen([sys.executable, "-m", "reference_impl.registry", "serve", "--root",
                             str(tmp_path / "registry"), "--addr", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline()
    match = LISTENING.search(line)
    assert match, line
    yield f"{match[1].decode()}:{match[2].decode()}"
    proc.kill()
    proc.wait()


def _operations(strata, tmp_path, registry: str, i: int, rng: random.Random) -> dict[str, list[str]]:
    return {
        "build": ["build", "-t", f"built:{i}", str(tmp_path / "context")],
        "push": ["push", f"{registry}/pushed:{i}"],
        "pull": ["pull", f"{registry}/source:1"],
        "load": ["load", "-i", str(tmp_path / "base.tar")],
        "commit": ["commit", "source", f"committed:{i}"],
        "rmi": ["rmi", "-f", f"committed:{rng.randrange(max(i, 1))}", f"{registry}/source:1"],
        "run": ["run", "--name", f"run{i}", "base", "sh", "-c", "echo hi > /x"],
    }


def test_sigkill_at_random_points_leaves_a_consistent_store_and_no_staging(strata, tmp_path, registry):
    context = tmp_path / "context"
    context.mkdir()
    (context / "payload").write_bytes(random.Random(1).randbytes(4 << 20))
    (context / "Dockerfile").write_text("FROM base\nRUN head -c 3000000 /dev/urandom > /noise\n"
                                        "COPY payload /payload\nRUN cp /payload /copy\n")
    assert strata("save", "-o", tmp_path / "base.tar", "base").returncode == 0
    assert strata("run", "--name", "source", "base", "sh", "-c", "echo changed > /etc/motd; rm /bin/ls").returncode == 0
    for setup in (["commit", "source", f"{registry}/source:1"], ["push", f"{registry}/source:1"]):
        done = strata(*setup)
        assert done.returncode == 0, done.stderr
    rng = random.Random(20261129)
    outcomes: dict[str, int] = {}
    for i in range(KILLS):
        op, args = rng.choice(sorted(_operations(strata, tmp_path, registry, i, rng).items()))
        if op == "push":
            strata("tag", "source", f"{registry}/pushed:{i}")
        proc = subprocess.Popen([strata.binary, *args], env=strata.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        outcomes[op] = outcomes.get(op, 0) + 1
    assert len(outcomes) == 7, outcomes

    assert strata("tag", "base", "after:kills").returncode == 0  # a command that takes the lock
    check = strata("system", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "store is consistent" in check.stdout
    assert not list((strata.root / "tmp").iterdir())
    assert not [c for c in _containers(strata) if not re.fullmatch(r"run\d+|source", c["Name"].lstrip("/"))]
    images = strata("images", "-q", "--no-trunc").stdout.split()
    for image in dict.fromkeys(images):
        ran = strata("run", "--rm", image, "true")
        assert ran.returncode == 0, f"{image}: {ran.stderr}"


def _containers(strata) -> list[dict]:
    ids = strata("ps", "-aq", "--no-trunc").stdout.split()
    if not ids:
        return []
    return json.loads(strata("inspect", *ids).stdout)


def test_leftovers_of_a_killed_operation_are_reported_then_reclaimed_by_the_next_write(strata):
    """A build killed in its RUN step leaves its workdir and its intermediate container:
    `system check` names them (count, size) and fails; the next write removes them."""
    context = strata.root.parent / "slow"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM base\nRUN head -c 2000000 /dev/urandom > /n; sleep 30\n")
    proc = subprocess.Popen([strata.binary, "build", str(context)], env=strata.env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    for line in proc.stdout:
        if b"Running in" in line:
            break
    time.sleep(0.5)
    proc.kill()
    proc.wait()
    check = strata("system", "check", "--quick")
    assert check.returncode == 1, check.stdout
    assert "of a killed build" in check.stdout
    assert re.search(r"^\d+ leftovers of interrupted operations hold \S+ \(\d+ bytes\)", check.stdout, re.M)
    assert strata("ps", "-aq").stdout.split(), "the killed build's container is gone before any write"
    assert strata("tag", "base", "again:1").returncode == 0
    assert strata("ps", "-aq").stdout.split() == []
    check = strata("system", "check", "--quick")
    assert check.returncode == 0, check.stdout
    assert not list((strata.root / "tmp").iterdir())


def test_system_check_finds_corruption(strata):
    root = strata.root
    layer_tar = next((root / "layers").iterdir()) / "layer.tar"
    with open(layer_tar, "r+b") as f:
        f.seek(600)
        f.write(b"corrupt")
    check = strata("system", "check")
    assert check.returncode == 1
    assert "tar does not hash to its diff id" in check.stdout
