"""A full disk during import, build (COPY and RUN) and pull (issue 16): the command fails in
Docker's words ("no space left on device"), never with a traceback; it removes its own
partial files before it reports, so the disk is as full as before and the store works.

The store lives on a small tmpfs of its own; the images that fill it are random bytes.
"""
import random
import re
import subprocess
import sys
import tarfile

import pytest

SIZE_MB = 24
LISTENING = re.compile(rb"listening on (\S+):(\d+)")


def _used(path) -> int:
    out = subprocess.run(["df", "--output=used", "-B1", str(path)], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[-1])


@pytest.fixture
def small_store(tmp_path, rootfs, strata_at):
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m", "tmpfs", str(mount)], check=True)
    engine = strata_at(mount / "store")
    try:
        assert engine("import", rootfs, "base:latest").returncode == 0
        yield engine
    finally:
        engine.remove_all_containers()
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _random_tar(path, megabytes: int) -> None:
    data = path.with_suffix(".bin")
    data.write_bytes(random.Random(megabytes).randbytes(megabytes << 20))
    with tarfile.open(path, "w") as tar:
        tar.add(data, arcname="big.bin")


def _assert_failed_cleanly(engine, result, used_before: int) -> None:
    __tracebackhide__ = True
    text = result.stdout + result.stderr
    assert result.returncode != 0, text
    assert "no space left on device" in result.stderr, text
    assert "Traceback" not in text, text
    assert not list((engine.root / "tmp").iterdir()), list((engine.root / "tmp").iterdir())
    assert _used(engine.root) <= used_before + (256 << 10), (used_before, _used(engine.root))
    check = engine("system", "check")
    assert check.returncode == 0, check.stdout
    ran = engine("run", "--rm", "base", "sh", "-c", "echo ok > /f && cat /f")
    assert ran.returncode == 0 and ran.stdout == "ok\n", ran.stderr


def test_import_on_a_full_disk(small_store, tmp_path):
    _random_tar(tmp_path / "big.tar", SIZE_MB // 2)
    used = _used(small_store.root)
    _assert_failed_cleanly(small_store, small_store("import", tmp_path / "big.tar", "big:1"), used)


def test_build_copy_on_a_full_disk(small_store, tmp_path):
    context = tmp_path / "context"
    context.mkdir()
    (context / "big.bin").write_bytes(random.Random(2).randbytes(SIZE_MB // 3 << 20))
    (context / "Dockerfile").write_text("FROM base\nCOPY big.bin /big.bin\n")
    used = _used(small_store.root)
    _assert_failed_cleanly(small_store, small_store("build", "-t", "big:1", context), used)


def test_build_run_on_a_full_disk(small_store, tmp_path):
    """The RUN's own write fits; the layer made of it does not."""
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM base\nRUN head -c {(SIZE_MB // 3) << 20} /dev/urandom > /big.bin\n")
    used = _used(small_store.root)
    result = small_store("build", "-t", "big:1", context)
    kept = small_store("ps", "-aq").stdout.split()  # as Docker, without --force-rm: the failed step's
    assert len(kept) == 1, kept                      # container stays, and is the user's to remove
    assert small_store("rm", *kept).returncode == 0
    _assert_failed_cleanly(small_store, result, used)


def test_pull_on_a_full_disk(small_store, tmp_path, strata_at):
    registry = subprocess.Popen([sys.executable, "-m", "reference_impl.registry", "serve", "--root",
                                 str(tmp_path / "registry"), "--addr", "127.0.0.1:0"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        match = LISTENING.search(registry.stdout.readline())
        assert match
        address = f"{match[1].decode()}:{match[2].decode()}"
        source = strata_at(tmp_path / "source-store")  # on the ordinary disk
        _random_tar(tmp_path / "big.tar", SIZE_MB // 2)
        assert source("import", tmp_path / "big.tar", f"{address}/big:1").returncode == 0
        pushed = source("push", f"{address}/big:1")
        assert pushed.returncode == 0, pushed.stderr
        used = _used(small_store.root)
        _assert_failed_cleanly(small_store, small_store("pull", f"{address}/big:1"), used)
    finally:
        registry.kill()
        registry.wait()
