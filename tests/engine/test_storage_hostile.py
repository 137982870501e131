"""Hostile input to volumes, mounts and cp: nothing may be read or written outside the
container's root or the volume (dockerd keeps `cp` inside the root with chrootarchive;
strata chroots the copy into the container's root, and resolves mount destinations there)."""
import io
import tarfile

import pytest


def _tar(members) -> bytes:
    """members: (name, kind, payload): kind "file" (payload: bytes) or "symlink" (payload: target)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, payload
                tar.addfile(info)
            else:
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    return out.getvalue()


@pytest.fixture(params=["stopped", "running"])
def container(request, strata):
    name = f"target-{request.param}"
    if request.param == "running":
        done = strata("run", "-d", "--name", name, "base", "sleep", "60")
    else:
        done = strata("create", "--name", name, "base", "true")
    assert done.returncode == 0, done.stderr
    return name


def test_cp_of_a_tar_with_escaping_members_writes_nothing_outside_the_root(strata, container, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    depth = "../" * 12
    hostile = _tar([
        (f"{depth}{str(outside).lstrip('/')}/dotdot", "file", b"escaped\n"),
        (f"{outside}/absolute", "file", b"escaped\n"),
        ("link", "symlink", str(outside)),
        ("link/through-link", "file", b"escaped\n"),
        ("rel", "symlink", f"{depth}{str(outside).lstrip('/')}"),
        ("rel/through-relative-link", "file", b"escaped\n"),
    ])
    strata("cp", "-", f"{container}:/", input=hostile.decode("latin-1"))
    assert sorted(p.name for p in outside.iterdir()) == []


def test_cp_of_an_escaping_member_is_refused(strata, container):
    done = strata("cp", "-", f"{container}:/tmp", input=_tar([("../../../x", "file", b"x")]).decode("latin-1"))
    assert done.returncode != 0
    assert "outside" in done.stderr or "Error processing tar file" in done.stderr


def test_cp_out_through_a_symlink_to_a_host_path_reads_the_containers_file(strata, tmp_path):
    secret = tmp_path / "host-secret"
    secret.write_text("HOST SECRET\n")
    made = strata("run", "--name", "linker", "base", "sh", "-c", f"ln -s {secret} /l")
    assert made.returncode == 0, made.stderr
    out = tmp_path / "copied"
    done = strata("cp", "-L", "linker:/l", str(out))
    assert done.returncode != 0                       # /tmp/... does not exist inside the container
    assert not out.exists()
    done = strata("cp", "linker:/l", str(out))         # without -L: the link itself
    assert done.returncode == 0, done.stderr
    assert out.is_symlink() and out.resolve() == secret   # a link, never the host file's content copied


def test_a_mount_destination_through_an_image_symlink_stays_inside_the_root(strata, tmp_path):
    host_dir = tmp_path / "host-dir"
    host_dir.mkdir()
    image = strata("run", "--name", "evil", "base", "sh", "-c", f"ln -s {host_dir} /evil && ln -s / /up")
    assert image.returncode == 0, image.stderr
    committed = strata("commit", "evil", "evil:1")
    assert committed.returncode == 0, committed.stderr
    for target in ("/evil/sub", "/up/evil2"):
        done = strata("run", "--rm", "-v", f"{tmp_path / 'src'}:{target}", "evil:1", "sh", "-c",
                      f"echo inside > {target}/f")
        assert done.returncode == 0, done.stderr
    assert list(host_dir.iterdir()) == []
    assert not (tmp_path.parent / "evil2").exists() and not (tmp_path / "evil2").exists()
    assert (tmp_path / "src" / "f").read_text() == "inside\n"   # the bind itself worked


@pytest.mark.parametrize("name", ["../../etc", "a/b", "..", ".hidden", "x"])
def test_volume_names_with_slashes_or_dots_are_refused(strata, name):
    before = sorted((strata.root / "volumes").iterdir()) if (strata.root / "volumes").exists() else []
    done = strata("volume", "create", name)
    assert done.returncode != 0
    assert "volume name" in done.stderr
    after = sorted((strata.root / "volumes").iterdir()) if (strata.root / "volumes").exists() else []
    assert after == before
    run = strata("run", "--rm", "-v", f"{name}:/data", "base", "true")
    assert run.returncode == 125
    assert not (strata.root / "etc").exists()


def test_a_mount_spec_with_an_unknown_key_is_refused(strata):
    done = strata("run", "--rm", "--mount", "type=volume,target=/x,evil=1", "base", "true")
    assert done.returncode == 125
    assert "unexpected key 'evil' in 'evil=1'" in done.stderr


def test_unsupported_propagation_is_refused_not_ignored(strata, tmp_path):
    done = strata("run", "--rm", "-v", f"{tmp_path}:/x:shared", "base", "true")
    assert done.returncode == 125
    assert "invalid mode: shared" in done.stderr
