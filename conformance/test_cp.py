"""`cp` between a container and its host, both ways, for running and stopped containers.

As `cp -a` does: a directory copied to a path that does not exist becomes that path;
copied to an existing directory it goes inside it; `SRC/.` copies the directory's
content. `-` is a tar stream on stdin or stdout. Files written through `cp` into a
volume path land in the volume. Host paths are under the check's tmp_path (on the
implementation's host: read back through cli.host).
"""
import io
import tarfile

import pytest

from conformance.messages import expect_message
from conformance.storage import volumes  # noqa: F401  (fixture)

TREE = "mkdir -p /src/sub && echo a > /src/a && echo b > /src/sub/b"


@pytest.fixture(params=["running", "stopped"])
def container(request, cli, base, names):
    """A container with /src (a, sub/b), running or stopped."""
    name = names("cp")
    if request.param == "running":
        cli.ok("run", "-d", "--name", name, base.ref, "sh", "-c", f"{TREE} && sleep 60")
        cli.ok("exec", name, "sh", "-c", "while [ ! -e /src/sub/b ]; do sleep 0.05; done")
    else:
        cli.ok("run", "--name", name, base.ref, "sh", "-c", TREE)
    return name


def _host_text(cli, path) -> str:
    copied = cli.host.file(str(path))
    assert copied.exists, f"nothing at {path}"
    return copied.content_string


def _host_listing(cli, directory) -> list[str]:
    found = cli.host.run(f"cd {directory} && find . | sort").stdout.splitlines()
    return [p for p in found if p != "."]


def test_cp_a_file_out_and_in(cli, container, tmp_path):
    out = tmp_path / "a-copy"
    cli.ok("cp", f"{container}:/src/a", str(out))
    assert _host_text(cli, out) == "a\n"
    source = tmp_path / "incoming"
    source.write_text("in\n")
    cli.ok("cp", str(source), f"{container}:/src/sub/")
    cli.ok("cp", f"{container}:/src/sub/incoming", str(tmp_path / "back"))
    assert _host_text(cli, tmp_path / "back") == "in\n"


def test_cp_a_directory_out_follows_the_trailing_dot_rules(cli, container, tmp_path):
    cli.ok("cp", f"{container}:/src", str(tmp_path / "new"))          # a new path: the directory itself
    assert _host_listing(cli, tmp_path / "new") == ["./a", "./sub", "./sub/b"]
    existing = tmp_path / "existing"
    existing.mkdir()
    cli.ok("cp", f"{container}:/src", str(existing))                  # an existing one: inside it
    assert _host_listing(cli, existing) == ["./src", "./src/a", "./src/sub", "./src/sub/b"]
    content = tmp_path / "content"
    content.mkdir()
    cli.ok("cp", f"{container}:/src/.", str(content))                 # SRC/.: its content
    assert _host_listing(cli, content) == ["./a", "./sub", "./sub/b"]


def test_cp_a_directory_in(cli, container, tmp_path):
    tree = tmp_path / "tree"
    (tree / "deep").mkdir(parents=True)
    (tree / "deep" / "x").write_text("x\n")
    cli.ok("cp", str(tree), f"{container}:/src")
    cli.ok("cp", f"{tree}/.", f"{container}:/src/sub")
    cli.ok("cp", f"{container}:/src", str(tmp_path / "out"))
    assert _host_listing(cli, tmp_path / "out") == ["./a", "./sub", "./sub/b", "./sub/deep", "./sub/deep/x",
                                                    "./tree", "./tree/deep", "./tree/deep/x"]


def test_cp_of_a_missing_path_is_refused(cli, container, tmp_path, messages):
    refused = cli.fails("cp", f"{container}:/no/such", str(tmp_path / "x"))
    expect_message(refused.stderr, messages, "cp.no_such_path", path="/no/such", container=container)
    missing = tmp_path / "missing"
    refused = cli.fails("cp", str(missing), f"{container}:/src")
    expect_message(refused.stderr, messages, "cp.no_such_local_path", path=str(missing))


def test_cp_to_stdout_is_a_tar_stream(cli, container):
    result = cli.shell("{cli} cp {src} - | tar -tvf -", src=f"{container}:/src")
    assert result.rc == 0, result.describe()
    names = sorted(line.split()[-1] for line in result.lines)
    assert names == ["src/", "src/a", "src/sub/", "src/sub/b"]


def test_cp_from_stdin_extracts_a_tar_stream(cli, container, tmp_path):
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        data = b"streamed\n"
        info = tarfile.TarInfo("from-tar/file")
        info.size, info.mode = len(data), 0o600
        tar.addfile(info, io.BytesIO(data))
    stream = tmp_path / "in.tar"
    stream.write_bytes(archive.getvalue())
    cli.ok("cp", "-", f"{container}:/src", stdin_file=stream)
    cli.ok("cp", f"{container}:/src/from-tar/file", str(tmp_path / "file"))
    assert _host_text(cli, tmp_path / "file") == "streamed\n"
    assert cli.host.file(str(tmp_path / "file")).mode == 0o600


def test_cp_into_a_volume_path_of_a_stopped_container_lands_in_the_volume(cli, base, names, volumes, tmp_path):
    name = volumes.create(names("target"))
    container = names("stopped")
    cli.ok("create", "--name", container, "-v", f"{name}:/data", base.ref, "true")
    source = tmp_path / "note"
    source.write_text("into-volume\n")
    cli.ok("cp", str(source), f"{container}:/data/note")
    assert cli.ok("run", "--rm", "-v", f"{name}:/v", base.ref, "cat", "/v/note").stdout == "into-volume\n"
    assert not any("note" in line for line in cli.ok("diff", container).lines)
