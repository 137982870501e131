"""Layer tars: safe extraction (nothing outside the layer), whiteouts both ways, digests."""
import io
import os
import stat
import tarfile

import pytest

from reference_impl import layers
from reference_impl.errors import InvalidInput


def make_tar(path, members):
    """members: (name, kind, data_or_target)"""
    with tarfile.open(path, "w") as tar:
        for name, kind, value in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = value.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "link": tarfile.LNKTYPE}[kind]
            info.mode = 0o755
            if kind in ("sym", "link"):
                info.linkname = value
            tar.addfile(info)
    return path


@pytest.mark.parametrize("members, words", [
    ([("../escape", "file", "x")], "outside of the layer root"),
    ([("a/../../escape", "file", "x")], "outside of the layer root"),
    ([("link", "sym", "/etc"), ("link/passwd", "file", "pwned")], "breakout through symlink"),
    ([("evil", "sym", "../../../etc/shadow")], "invalid symlink"),
    ([("hard", "link", "../../etc/passwd")], "outside of the layer root"),
    ([("hard", "link", "not/in/layer")], "invalid hardlink"),
])
def test_hostile_layer_is_refused_and_nothing_escapes(tmp_path, members, words):
    outside = tmp_path / "etc"
    outside.mkdir()
    (outside / "passwd").write_text("root")
    root = tmp_path / "layer" / "diff"
    root.mkdir(parents=True)
    tar = make_tar(tmp_path / "hostile.tar", members)
    with pytest.raises(InvalidInput) as err:
        layers.extract(tar, root)
    assert words in str(err.value)
    assert (outside / "passwd").read_text() == "root"
    assert not (tmp_path / "escape").exists()


def test_absolute_names_and_absolute_symlinks_stay_inside(tmp_path):
    root = tmp_path / "diff"
    root.mkdir()
    tar = make_tar(tmp_path / "ok.tar", [("/etc/motd", "file", "hi"), ("bin/sh", "sym", "/bin/busybox")])
    layers.extract(tar, root)
    assert (root / "etc" / "motd").read_text() == "hi"
    assert os.readlink(root / "bin" / "sh") == "/bin/busybox"


def test_whiteouts_become_overlay_whiteouts_and_back(tmp_path):
    root = tmp_path / "diff"
    root.mkdir()
    tar = make_tar(tmp_path / "wh.tar", [("etc/.wh.passwd", "file", ""), ("var/.wh..wh..opq", "file", ""),
                                          ("var/new", "file", "n")])
    layers.extract(tar, root)
    st = os.lstat(root / "etc" / "passwd")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert os.getxattr(root / "var", "trusted.overlay.opaque") == b"y"
    out = tmp_path / "out.tar"
    diff_id = layers.write_diff_tar(root, out)
    assert diff_id == layers.sha256_file(out)
    with tarfile.open(out) as t:
        names = t.getnames()
    assert "etc/.wh.passwd" in names
    assert "var/.wh..wh..opq" in names
    assert "var/new" in names


def test_changes_reports_added_changed_deleted(tmp_path):
    lower = tmp_path / "lower"
    (lower / "etc").mkdir(parents=True)
    (lower / "etc" / "old").write_text("o")
    (lower / "etc" / "keep").write_text("k")
    upper = tmp_path / "upper"
    (upper / "etc").mkdir(parents=True)
    (upper / "etc" / "keep").write_text("changed")
    (upper / "etc" / "new").write_text("n")
    os.mknod(upper / "etc" / "old", stat.S_IFCHR, os.makedev(0, 0))
    assert layers.changes(upper, [lower]) == [
        ("C", "/etc"), ("C", "/etc/keep"), ("A", "/etc/new"), ("D", "/etc/old")]


def test_gzipped_layer_is_spooled_uncompressed(tmp_path):
    import gzip
    tar = make_tar(tmp_path / "plain.tar", [("f", "file", "data")])
    gz = tmp_path / "layer.tar.gz"
    gz.write_bytes(gzip.compress(tar.read_bytes()))
    with open(gz, "rb") as stream:
        spooled, diff_id = layers.spool_uncompressed(stream, tmp_path)
    assert spooled.read_bytes() == tar.read_bytes()
    assert diff_id == layers.sha256_file(tar)
