"""Copy-on-write (seed §1, §2): a container writes in its own layer, never in the image.

A container's first write to a file of the image copies it up into the container's
layer; the image's copy stays as it was, for new containers and for siblings
running beside it. ``diff`` lists the container's layer: A (added), C (changed),
D (deleted), one line per path, parent directories of changed paths included.
"""
from conformance.fixtures import GROUP, PASSWD

# one container's changes to the base image: a new file, a changed one, a deleted one
CHANGES = "echo new > /www/new.txt && echo 'extra:x:1000:1000::/:/bin/sh' >> /etc/passwd && rm /etc/group"
EXTRA = "extra:x:1000:1000::/:/bin/sh\n"


def diff_lines(messages, added=(), changed=(), deleted=()) -> list[str]:
    lines = [messages["diff.added"].replace("{path}", p) for p in added]
    lines += [messages["diff.changed"].replace("{path}", p) for p in changed]
    lines += [messages["diff.deleted"].replace("{path}", p) for p in deleted]
    return sorted(lines)


def test_container_changes_leave_the_image_unchanged(cli, base, names):
    cli.ok("run", "--name", names("writer"), base.ref, "sh", "-c", CHANGES)
    assert cli.image_id(base.ref) == base.id
    fresh = cli.ok("run", "--rm", base.ref, "sh", "-c",
                   "cat /etc/passwd /etc/group && ls -A /www && echo end").stdout
    assert fresh == PASSWD + GROUP + "end\n"


def test_sibling_container_does_not_see_another_containers_changes(cli, base, names):
    sibling = names("sibling")
    cli.ok("run", "-d", "--name", sibling, base.ref, "sleep", "60")
    cli.ok("run", "--name", names("writer"), base.ref, "sh", "-c", CHANGES)
    seen = cli.ok("exec", sibling, "sh", "-c", "cat /etc/passwd /etc/group && ls -A /www && echo end").stdout
    assert seen == PASSWD + GROUP + "end\n"
    cli.ok("rm", "-f", sibling)


def test_container_sees_its_own_changes_over_the_image(cli, base, names):
    seen = cli.ok("run", "--rm", base.ref, "sh", "-c",
                  CHANGES + " && cat /www/new.txt /etc/passwd && test ! -e /etc/group && echo gone").stdout
    assert seen == "new\n" + PASSWD + EXTRA + "gone\n"
    assert cli.ok("run", "--rm", base.ref, "cat", "/etc/group").stdout == GROUP


def test_diff_lists_added_changed_and_deleted_paths_with_their_directories(cli, base, names, messages):
    container = names("writer")
    cli.ok("run", "--name", container, base.ref, "sh", "-c", CHANGES)
    listed = sorted(cli.ok("diff", container).lines)
    assert listed == diff_lines(messages, added=["/www/new.txt"], changed=["/etc", "/etc/passwd", "/www"],
                                deleted=["/etc/group"])


def test_diff_lists_every_path_of_a_new_directory_tree(cli, base, names, messages):
    container = names("mkdir")
    cli.ok("run", "--name", container, base.ref, "sh", "-c", "mkdir -p /var/deep/er && echo x > /var/deep/er/f")
    listed = sorted(cli.ok("diff", container).lines)
    assert listed == diff_lines(messages, added=["/var/deep", "/var/deep/er", "/var/deep/er/f"],
                                changed=["/var"])


def test_diff_of_container_that_wrote_nothing_is_empty(cli, base, names):
    container = names("idle")
    cli.ok("run", "--name", container, base.ref, "cat", "/etc/passwd")
    result = cli.ok("diff", container)
    assert result.lines == []


def test_diff_of_replaced_directory_lists_old_entries_as_deleted(cli, base, context, names, messages):
    image = cli.build_ok(context({"Dockerfile": f"FROM {base.ref}\nRUN mkdir /data && echo a > /data/a"
                                                 " && echo b > /data/b\n"}), tag=names("data"))
    container = names("replace")
    cli.ok("run", "--name", container, image, "sh", "-c", "rm -rf /data && mkdir /data && echo c > /data/c")
    listed = sorted(cli.ok("diff", container).lines)
    assert listed == diff_lines(messages, added=["/data/c"], changed=["/data"], deleted=["/data/a", "/data/b"])
    assert cli.ok("run", "--rm", image, "ls", "/data").lines == ["a", "b"]


def test_first_write_copies_up_the_file_with_its_content(cli, base, names, messages):
    container = names("append")
    appended = cli.ok("run", "--name", container, base.ref, "sh", "-c",
                      f"echo '{EXTRA.strip()}' >> /etc/passwd && cat /etc/passwd").stdout
    assert appended == PASSWD + EXTRA
    # only the written file and its directory are in the container's layer, not its siblings
    assert sorted(cli.ok("diff", container).lines) == diff_lines(messages, changed=["/etc", "/etc/passwd"])
    assert cli.ok("run", "--rm", base.ref, "cat", "/etc/passwd").stdout == PASSWD


def test_metadata_change_copies_up_the_file(cli, base, names, messages):
    container = names("chmod")
    mode = cli.ok("run", "--name", container, base.ref, "sh", "-c",
                  "chmod 600 /etc/passwd && stat -c %a /etc/passwd").stdout.strip()
    assert mode == "600"
    assert sorted(cli.ok("diff", container).lines) == diff_lines(messages, changed=["/etc", "/etc/passwd"])
    assert cli.ok("run", "--rm", base.ref, "stat", "-c", "%a", "/etc/passwd").stdout.strip() == "644"
