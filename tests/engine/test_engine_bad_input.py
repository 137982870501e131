"""Bad input gets a clear error in Docker's words and the store is unchanged (issue 3)."""
import io
import tarfile
from pathlib import Path

import pytest


def snapshot(strata) -> tuple:
    root = strata.root
    return (sorted(p.name for p in (root / "layers").iterdir()),
            sorted(p.name for p in (root / "images").iterdir()),
            (root / "repositories.json").read_text(),
            sorted(p.name for p in (root / "containers").iterdir()))


def hostile_tar(path: Path, name: str, kind=tarfile.REGTYPE, link: str = "") -> Path:
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, link
        data = b"pwned"
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return path


@pytest.mark.parametrize("name, kind, link, words", [
    ("../../escaped", tarfile.REGTYPE, "", "is outside of the layer root"),
    ("hard", tarfile.LNKTYPE, "../../../etc/passwd", "is outside of the layer root"),
    ("evil", tarfile.SYMTYPE, "../../../../etc", "invalid symlink"),
])
def test_hostile_layer_is_refused_and_the_store_is_unchanged(strata, tmp_path, name, kind, link, words):
    before = snapshot(strata)
    result = strata("import", str(hostile_tar(tmp_path / "bad.tar", name, kind, link)), "bad:latest")
    assert result.returncode == 1
    assert words in result.stderr
    assert snapshot(strata) == before
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("args, words", [
    (["tag", "base", "UPPER/case"], "invalid reference format"),
    (["tag", "base", "a:b:c"], "invalid reference format"),
    (["run", "--rm", "nothere:v1", "true"], "Unable to find image 'nothere:v1' locally"),
    (["rm", "ghost"], "Error response from daemon: No such container: ghost"),
    (["rmi", "ghost"], "Error response from daemon: No such image: ghost:latest"),
    (["inspect", "ghost"], "Error: No such object: ghost"),
])
def test_unknown_and_malformed_names_are_refused_in_dockers_words(strata, args, words):
    before = snapshot(strata)
    result = strata(*args)
    assert result.returncode != 0
    assert words in result.stderr
    assert snapshot(strata) == before


def test_a_name_already_in_use_is_a_conflict_and_the_first_container_stays(strata):
    assert strata("create", "--name", "taken", "base", "true").returncode == 0
    before = snapshot(strata)
    result = strata("run", "--name", "taken", "base", "true")
    assert result.returncode == 125
    assert 'Conflict. The container name "/taken" is already in use by container' in result.stderr
    assert snapshot(strata) == before


def test_a_malformed_dockerfile_names_the_line_and_builds_nothing(strata, tmp_path):
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM base\nRUN true\nBOGUS x\n")
    before = snapshot(strata)
    result = strata("build", "-t", "never:v1", str(tmp_path / "ctx"))
    assert result.returncode == 1
    assert "dockerfile parse error line 3: unknown instruction: BOGUS" in result.stderr
    assert snapshot(strata) == before
