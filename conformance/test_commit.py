"""commit (seed §6): a container's difference becomes one new layer of a new image.

The committed image's layers are the container's image's layers plus exactly one
layer holding what the container added, changed or deleted (deletions as OCI
whiteouts ``.wh.<name>``, a replaced directory as an opaque ``.wh..wh..opq``).
Its parent is the container's image; ``-m``, ``-a`` and ``-c`` set the comment,
the author and config changes.
"""
import json

from conformance import ids
from conformance.archive import OPAQUE_MARKER, WHITEOUT_PREFIX, saved
from conformance.helpers import layers
from conformance.messages import expect_message

CHANGES = "echo new > /www/new.txt && echo 'extra:x:1000:1000::/:/bin/sh' >> /etc/passwd && rm /etc/group"


def changed_container(cli, base, names) -> str:
    container = names("changed")
    cli.ok("run", "--name", container, base.ref, "sh", "-c", CHANGES)
    return container


def test_commit_prints_the_new_image_id_and_adds_exactly_one_layer(cli, base, names):
    container = changed_container(cli, base, names)
    printed = cli.ok("commit", container, names("committed")).stdout.strip()
    committed = cli.image_id(names("committed"))
    assert ids.same(printed, committed)  # (Docker prints sha256:<hex>, podman the hex)
    assert committed != base.id
    after = layers(cli, committed)
    assert after[:-1] == layers(cli, base.ref)
    assert len(after) == len(layers(cli, base.ref)) + 1


def test_committed_layer_holds_only_the_containers_changes(cli, base, names, tmp_path):
    cli.ok("commit", changed_container(cli, base, names), names("committed"))
    image = saved(cli, names("committed"), tmp_path)
    top = image.layers[-1]
    assert sorted(top.members) == ["etc", f"etc/{WHITEOUT_PREFIX}group", "etc/passwd", "www", "www/new.txt"]
    assert top.read("www/new.txt") == b"new\n"
    assert top.read("etc/passwd").endswith(b"extra:x:1000:1000::/:/bin/sh\n")
    assert top.diff_id == image.diff_ids[-1]
    assert [layer.diff_id for layer in image.layers[:-1]] == layers(cli, base.ref)


def test_commit_records_a_deleted_file_as_a_whiteout(cli, base, names, tmp_path):
    cli.ok("commit", changed_container(cli, base, names), names("committed"))
    top = saved(cli, names("committed"), tmp_path).layers[-1]
    assert f"etc/{WHITEOUT_PREFIX}group" in top.members
    assert "etc/group" not in top.members
    listing = cli.ok("run", "--rm", names("committed"), "sh", "-c", "test ! -e /etc/group && ls /www").lines
    assert listing == ["new.txt"]
    cli.ok("run", "--rm", base.ref, "test", "-f", "/etc/group")


def test_commit_records_a_replaced_directory_as_opaque(cli, base, context, names, tmp_path):
    image = cli.build_ok(context({"Dockerfile": f"FROM {base.ref}\nRUN mkdir /data && echo a > /data/a"
                                                 " && echo b > /data/b\n"}), tag=names("data"))
    container = names("replace")
    cli.ok("run", "--name", container, image, "sh", "-c", "rm -rf /data && mkdir /data && echo c > /data/c")
    cli.ok("commit", container, names("committed"))
    top = saved(cli, names("committed"), tmp_path).layers[-1]
    assert sorted(top.members) == ["data", f"data/{OPAQUE_MARKER}", "data/c"]
    assert cli.ok("run", "--rm", names("committed"), "ls", "/data").lines == ["c"]
    assert cli.ok("run", "--rm", image, "ls", "/data").lines == ["a", "b"]


def test_committed_image_parent_is_the_containers_image(cli, base, context, names):
    image = cli.build_ok(context({"Dockerfile": f"FROM {base.ref}\nRUN echo built > /www/built\n"}),
                         tag=names("built"))
    container = names("child")
    cli.ok("run", "--name", container, image, "sh", "-c", "echo more > /www/more")
    assert cli.inspect_id(container, "{{.Image}}") == image
    committed = cli.ok("commit", container, names("committed")).stdout.strip()
    assert cli.inspect_id(committed, "{{.Parent}}") == image
    assert cli.inspect_id(image, "{{.Parent}}") == base.id


def test_commit_message_and_author_are_recorded(cli, base, names):
    container = changed_container(cli, base, names)
    committed = cli.ok("commit", "-m", "added a page", "-a", "Ann Author <ann@example.com>",
                       container, names("committed")).stdout.strip()
    assert cli.inspect(committed, "{{.Comment}}") == "added a page"
    assert cli.inspect(committed, "{{.Author}}") == "Ann Author <ann@example.com>"
    comments = cli.ok("history", "--format", "{{.Comment}}", committed).stdout.splitlines()
    assert comments[0] == "added a page"


def test_commit_change_sets_cmd_and_env(cli, base, names):
    container = changed_container(cli, base, names)
    committed = cli.ok("commit", "-c", 'CMD ["sh", "-c", "echo $GREETING; cat /www/new.txt"]',
                       "-c", "ENV GREETING=hello", container, names("committed")).stdout.strip()
    assert json.loads(cli.inspect(committed, "{{json .Config.Cmd}}")) == [
        "sh", "-c", "echo $GREETING; cat /www/new.txt"]
    assert "GREETING=hello" in json.loads(cli.inspect(committed, "{{json .Config.Env}}"))
    assert cli.ok("run", "--rm", committed).stdout == "hello\nnew\n"


def test_commit_without_change_keeps_the_containers_command(cli, base, names):
    container = names("command")
    cli.ok("run", "--name", container, base.ref, "sh", "-c", "echo kept > /www/kept")
    committed = cli.ok("commit", container, names("committed")).stdout.strip()
    assert json.loads(cli.inspect(committed, "{{json .Config.Cmd}}")) == [
        "sh", "-c", "echo kept > /www/kept"]
    assert json.loads(cli.inspect(base.ref, "{{json .Config.Cmd}}")) == ["/bin/sh"]


def test_commit_of_an_unchanged_container_adds_no_layer(cli, base, names, tmp_path):
    container = names("idle")
    cli.ok("run", "--name", container, base.ref, "true")
    committed = cli.ok("commit", container, names("committed")).stdout.strip()
    assert committed != base.id
    assert cli.inspect_id(committed, "{{.Parent}}") == base.id
    assert layers(cli, committed) == layers(cli, base.ref)
    assert saved(cli, committed, tmp_path).history[-1].get("empty_layer") is True


def test_ps_last_quiet_names_the_container_to_commit(private, names):
    first, last = names("first"), names("last")
    private.ok("run", "--name", first, private.base.ref, "sh", "-c", "echo first > /www/first")
    private.ok("run", "--name", last, private.base.ref, "sh", "-c", "echo last > /www/last")
    last_id = private.inspect(last, "{{.Id}}")
    assert private.ok("ps", "-l", "-q").lines == [last_id[:12]]
    repo = names("committed")
    committed = private.shell("{cli} commit $({cli} ps -l -q) {repo}", repo=repo)
    assert committed.rc == 0, committed.describe()
    assert private.inspect_id(repo, "{{.Parent}}") == private.base.id
    assert private.ok("run", "--rm", repo, "ls", "/www").lines == ["last"]


def test_commit_of_an_unknown_container_fails(cli, names, messages):
    missing = names("missing")
    result = cli.fails("commit", missing, names("committed"))
    expect_message(result.stderr, messages, "container.no_such_container", name=missing)
    assert not cli.exists("image", names("committed"))
