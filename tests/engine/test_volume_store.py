"""The volume store: where volumes live, what `system check` says about them."""
import json
import shutil


def test_a_volume_lives_under_the_root_with_an_atomic_record(strata):
    assert strata("volume", "create", "--label", "k=v", "data1").returncode == 0
    directory = strata.root / "volumes" / "data1"
    record = json.loads((directory / "opts.json").read_text())
    assert record["Name"] == "data1" and record["Labels"] == {"k": "v"} and record["Driver"] == "local"
    assert (directory / "_data").is_dir()
    assert [p.name for p in directory.iterdir() if p.name.startswith(".")] == []   # no staging left
    assert strata("volume", "rm", "data1").returncode == 0
    assert not directory.exists()


def test_system_check_reports_broken_volumes_and_missing_ones_in_use(strata):
    assert strata("system", "check", "--quick").returncode == 0
    assert strata("volume", "create", "half").returncode == 0
    (strata.root / "volumes" / "half" / "opts.json").unlink()
    assert strata("create", "--name", "user", "-v", "used:/data", "base", "true").returncode == 0
    shutil.rmtree(strata.root / "volumes" / "used")
    check = strata("system", "check", "--quick")
    assert check.returncode == 1
    assert "volume half: its record (opts.json) is missing" in check.stdout
    assert "volume used is missing" in check.stdout


def test_copy_up_happens_once_at_create_and_never_outside_the_volume(strata, tmp_path):
    """dockerd fills an empty volume at create; the start does not fill it again, and an image
    symlink at the destination resolves inside the container's root, not the host's."""
    assert strata("run", "--name", "maker", "base", "sh", "-c",
                  "mkdir /seed && echo s > /seed/f && ln -s /seed /link").returncode == 0
    assert strata("commit", "maker", "seeded").returncode == 0
    assert strata("create", "--name", "user", "-v", "early:/seed", "-v", "viaLink:/link", "seeded", "true").returncode == 0
    early = strata.root / "volumes" / "early" / "_data"
    assert (early / "f").read_text() == "s\n"
    assert (strata.root / "volumes" / "viaLink" / "_data" / "f").read_text() == "s\n"  # /link -> the image's /seed
    (early / "f").unlink()
    assert strata("start", "-a", "user").returncode == 0
    assert list(early.iterdir()) == []  # not filled again at the start
