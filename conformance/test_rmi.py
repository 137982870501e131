"""Removing images (seed §8): `rmi` vs `rm`, conflicts with containers and child
images, several references, what `Untagged:` / `Deleted:` report, dangling images.

Every image here is built on this check's own base, so ids are this check's only.
"""
import hashlib
import json

from conformance import ids
from conformance.helpers import build_from
from conformance.messages import expect_message
from conformance.naming import LABEL_CHECK
from conformance.ids import short


def one_tag_image(cli, context, base, names) -> tuple[str, str]:
    """An image with exactly one reference; returns (ref, id)."""
    ref = f"{names('app')}:v1"
    return ref, build_from(cli, context, base.ref, ref, f"ENV CHECK={names.prefix}")


def running_container(cli, image, name) -> str:
    cli.ok("run", "-d", "--name", name, image, "sleep", "1000")
    return container_field(cli, name, "{{.Id}}")


def stopped_container(cli, image, name) -> str:
    cli.ok("run", "--name", name, image, "true")
    return container_field(cli, name, "{{.Id}}")


def container_field(cli, name, fmt) -> str:
    return cli.ok("container", "inspect", "--format", fmt, name).stdout.strip()


def parent_chain(cli, image_id, stop) -> list[str]:
    """The image and its parents, child first, up to (not including) `stop`."""
    chain = []
    while image_id and image_id != stop:
        chain.append(image_id)
        parent = cli.ok("image", "inspect", "--format", "{{.Parent}}", image_id).stdout.strip()
        image_id = ids.full(parent) if parent else parent
    assert image_id == stop, f"{chain[0]} does not descend from {stop}"
    return chain


def reported(text, messages, key) -> list[str]:
    """The values a one-placeholder message reports, line by line, in order."""
    head, _, tail = messages[key].partition("{")
    tail = tail.partition("}")[2]
    return [line[len(head):len(line) - len(tail)] for line in text.splitlines()
            if line.startswith(head) and line.endswith(tail) and len(line) > len(head) + len(tail)]


def deleted_ids(text, messages) -> list[str]:
    """The ids `rmi` reports as deleted, in order, normalised (conformance/ids.py)."""
    return [ids.full(i) for i in reported(text, messages, "rmi.deleted")]


def dangling_ids(cli, names) -> list[str]:
    return [ids.full(i) for i in cli.ok("images", "-q", "--no-trunc", "--filter", "dangling=true",
                                        "--filter", f"label={LABEL_CHECK}={names.prefix}").lines]


# --- names ------------------------------------------------------------------------------

def test_rmi_without_tag_looks_for_latest(cli, base, names, messages):
    repo = names("app")
    cli.ok("tag", base.ref, f"{repo}:v1")
    result = cli.run("rmi", repo)
    assert result.rc == 1
    assert cli.image_id(f"{repo}:v1") == base.id
    expect_message(result.stderr, messages, "image.no_such_image", ref=f"{repo}:latest")


def test_rm_of_an_image_name_finds_no_container(cli, base, messages):
    result = cli.run("rm", base.ref)
    assert result.rc == 1
    assert cli.image_id(base.ref) == base.id
    expect_message(result.stderr, messages, "container.no_such_container", name=base.ref)


def test_rmi_of_a_container_name_finds_no_image(cli, base, names, messages):
    name = names("ctr")
    stopped_container(cli, base.ref, name)
    result = cli.run("rmi", name)
    assert result.rc == 1
    assert cli.exists("container", name)
    expect_message(result.stderr, messages, "image.no_such_image", ref=f"{name}:latest")


def test_rmi_force_of_a_missing_image_reports_it_and_still_exits_zero(cli, base, names, messages):
    missing, other = f"{names('missing')}:v1", f"{names('other')}:v1"
    cli.ok("tag", base.ref, other)
    result = cli.run("rmi", "-f", missing, other)
    assert result.rc == 0
    assert not cli.exists("image", other)
    assert cli.image_id(base.ref) == base.id
    expect_message(result.stderr, messages, "image.no_such_image", ref=missing)
    expect_message(result.stdout, messages, "rmi.untagged", ref=cli.listed_name(other))


# --- images used by containers ----------------------------------------------------------

def test_rmi_last_tag_of_an_image_a_running_container_uses_must_be_forced(cli, base, names, context, messages):
    ref, image = one_tag_image(cli, context, base, names)
    container = running_container(cli, ref, names("run"))
    result = cli.run("rmi", ref)
    assert result.rc == 1
    assert cli.image_id(ref) == image
    expect_message(result.stderr, messages, "rmi.conflict_by_tag",
                   ref=ref, container=short(container), image=short(image))


def test_rmi_last_tag_of_an_image_a_stopped_container_uses_must_be_forced(cli, base, names, context, messages):
    ref, image = one_tag_image(cli, context, base, names)
    container = stopped_container(cli, ref, names("stopped"))
    result = cli.run("rmi", ref)
    assert result.rc == 1
    assert cli.image_id(ref) == image
    expect_message(result.stderr, messages, "rmi.conflict_by_tag",
                   ref=ref, container=short(container), image=short(image))


def test_rmi_tag_only_untags_while_another_tag_remains_even_with_a_container(cli, base, names, context, messages):
    ref, image = one_tag_image(cli, context, base, names)
    second = f"{names('app')}:v2"
    cli.ok("tag", ref, second)
    stopped_container(cli, ref, names("stopped"))
    result = cli.run("rmi", ref)
    assert result.rc == 0
    assert not cli.exists("image", ref)
    assert cli.image_id(second) == image
    assert len(result.lines) == 1
    expect_message(result.stdout, messages, "rmi.untagged", ref=cli.listed_name(ref))


def test_rmi_id_of_an_image_a_running_container_uses_cannot_be_forced(cli, base, names, context, messages):
    ref, image = one_tag_image(cli, context, base, names)
    name = names("run")
    container = running_container(cli, ref, name)
    plain = cli.run("rmi", image)
    forced = cli.run("rmi", "-f", image)
    assert (plain.rc, forced.rc) == (1, 1)
    assert cli.image_id(ref) == image
    assert container_field(cli, name, "{{.State.Running}}") == "true"
    for result in (plain, forced):
        expect_message(result.stderr, messages, "rmi.conflict_running_by_id",
                       image=short(image), container=short(container))


def test_rmi_id_of_an_image_a_stopped_container_uses_must_be_forced(cli, base, names, context, messages):
    ref, image = one_tag_image(cli, context, base, names)
    container = stopped_container(cli, ref, names("stopped"))
    result = cli.run("rmi", image)
    assert result.rc == 1
    assert cli.image_id(ref) == image
    expect_message(result.stderr, messages, "rmi.conflict_stopped_by_id",
                   image=short(image), container=short(container))


def test_rmi_force_tag_with_a_running_container_only_untags(cli, base, names, context, messages):
    ref, image = one_tag_image(cli, context, base, names)
    name = names("run")
    running_container(cli, ref, name)
    result = cli.run("rmi", "-f", ref)
    assert result.rc == 0
    assert not cli.exists("image", ref)
    assert cli.image_id(image) == image  # kept, now without a name
    assert container_field(cli, name, "{{.State.Running}}") == "true"
    assert ids.full(container_field(cli, name, "{{.Image}}")) == image
    assert len(result.lines) == 1
    expect_message(result.stdout, messages, "rmi.untagged", ref=cli.listed_name(ref))


def test_rmi_force_id_with_a_stopped_container_deletes_the_image_and_keeps_the_container(
        cli, base, names, context, messages):
    ref, image = one_tag_image(cli, context, base, names)
    name = names("stopped")
    stopped_container(cli, ref, name)
    result = cli.run("rmi", "-f", image)
    assert result.rc == 0
    assert not cli.exists("image", image)
    assert ids.full(container_field(cli, name, "{{.Image}}")) == image
    assert cli.image_id(base.ref) == base.id
    expect_message(result.stdout, messages, "rmi.untagged", ref=cli.listed_name(ref))
    assert deleted_ids(result.stdout, messages)[0] == image


# --- child images -----------------------------------------------------------------------

def parent_and_child(cli, context, base, names) -> tuple[str, str, str]:
    parent_ref = f"{names('parent')}:v1"
    parent = build_from(cli, context, base.ref, parent_ref, f"ENV PARENT={names.prefix}")
    child = build_from(cli, context, parent_ref, f"{names('child')}:v1", "ENV CHILD=1")
    return parent_ref, parent, child


def test_rmi_id_of_a_parent_image_cannot_be_forced(cli, base, names, context, messages):
    parent_ref, parent, child = parent_and_child(cli, context, base, names)
    plain = cli.run("rmi", parent)
    forced = cli.run("rmi", "-f", parent)
    assert (plain.rc, forced.rc) == (1, 1)
    assert cli.image_id(parent_ref) == parent
    assert cli.exists("image", child)
    for result in (plain, forced):
        expect_message(result.stderr, messages, "rmi.conflict_children", image=short(parent))


def test_rmi_tag_of_a_parent_image_only_untags(cli, base, names, context, messages):
    parent_ref, parent, child = parent_and_child(cli, context, base, names)
    result = cli.run("rmi", parent_ref)
    assert result.rc == 0
    assert not cli.exists("image", parent_ref)
    assert cli.image_id(parent) == parent
    assert cli.inspect_id(child, "{{.Parent}}") == parent
    assert len(result.lines) == 1
    expect_message(result.stdout, messages, "rmi.untagged", ref=cli.listed_name(parent_ref))


# --- several references -----------------------------------------------------------------

def test_rmi_id_referenced_in_two_repositories_must_be_forced(cli, base, names, messages):
    other = f"{names('other')}:v1"
    cli.ok("tag", base.ref, other)
    result = cli.run("rmi", base.id)
    assert result.rc == 1
    assert cli.image_id(base.ref) == base.id
    assert cli.image_id(other) == base.id
    expect_message(result.stderr, messages, "rmi.conflict_multiple_repositories", image=base.short_id)


def test_rmi_id_with_two_tags_in_one_repository_must_be_forced_too(cli, base, names, messages):
    second = base.ref.replace(":latest", ":v2")
    cli.ok("tag", base.ref, second)
    result = cli.run("rmi", base.short_id)
    assert result.rc == 1
    assert cli.image_id(second) == base.id
    assert cli.image_id(base.ref) == base.id
    expect_message(result.stderr, messages, "rmi.conflict_multiple_repositories", image=base.short_id)


def test_rmi_force_id_untags_every_reference_and_deletes(cli, base, names, messages):
    refs = [base.ref, f"{names('one')}:v1", f"{names('one')}:v2", f"{names('two')}:v1"]
    for ref in refs[1:]:
        cli.ok("tag", base.ref, ref)
    result = cli.run("rmi", "-f", base.id)
    assert result.rc == 0
    assert not cli.exists("image", base.id)
    assert [cli.exists("image", ref) for ref in refs] == [False] * len(refs)
    assert sorted(reported(result.stdout, messages, "rmi.untagged")) == sorted(map(cli.listed_name, refs))
    assert deleted_ids(result.stdout, messages)[0] == base.id


# --- what removal reports ---------------------------------------------------------------

STEPS = ("RUN echo {prefix}-a > /a", "ENV STEP=2", "RUN echo {prefix}-b > /b")


def three_step_image(cli, context, base, names) -> tuple[str, list[str]]:
    """app:v1 = base + RUN + ENV + RUN; returns (ref, [top, middle, first step])."""
    ref = f"{names('app')}:v1"
    top = build_from(cli, context, base.ref, ref, *(s.format(prefix=names.prefix) for s in STEPS))
    chain = parent_chain(cli, top, base.id)
    assert len(chain) == len(STEPS)
    return ref, chain


def test_rmi_tag_deletes_the_image_and_its_untagged_parents(cli, base, names, context, messages):
    ref, chain = three_step_image(cli, context, base, names)
    result = cli.ok("rmi", ref)
    assert [cli.exists("image", i) for i in chain] == [False] * len(chain)
    assert cli.image_id(base.ref) == base.id
    deleted = deleted_ids(result.stdout, messages)
    assert [i for i in deleted if i in chain] == chain  # the image, then each parent
    assert base.id not in deleted
    assert reported(result.stdout, messages, "rmi.untagged") == [cli.listed_name(ref)]
    expect_message(result.stdout.splitlines()[0], messages, "rmi.untagged", ref=cli.listed_name(ref))


def chain_ids(diff_ids: list[str]) -> list[str]:
    """OCI ChainIDs of a layer stack (the layer store's keys)."""
    chain = [diff_ids[0]]
    for diff in diff_ids[1:]:
        chain.append("sha256:" + hashlib.sha256(f"{chain[-1]} {diff}".encode()).hexdigest())
    return chain


def test_rmi_also_reports_the_layers_it_releases(cli, base, names, context, messages):
    ref, chain = three_step_image(cli, context, base, names)
    layers = json.loads(cli.ok("image", "inspect", "--format", "{{json .RootFS.Layers}}", ref).stdout)
    base_layers = json.loads(cli.ok("image", "inspect", "--format", "{{json .RootFS.Layers}}",
                                    base.id).stdout)
    assert layers[:len(base_layers)] == base_layers and len(layers) == len(base_layers) + 2
    released = chain_ids(layers)[len(base_layers):]  # the two RUN layers; ENV adds none
    deleted = deleted_ids(cli.ok("rmi", ref).stdout, messages)
    assert sorted(deleted) == sorted(chain + released)


def test_rmi_no_prune_keeps_the_untagged_parents(cli, base, names, context, messages):
    ref, chain = three_step_image(cli, context, base, names)
    result = cli.ok("rmi", "--no-prune", ref)
    assert not cli.exists("image", chain[0])
    assert [cli.exists("image", i) for i in chain[1:]] == [True, True]
    assert dangling_ids(cli, names) == [chain[1]]  # the parent has no child left
    deleted = deleted_ids(result.stdout, messages)
    assert [i for i in deleted if i in chain] == [chain[0]]


# --- dangling images --------------------------------------------------------------------

def rebuilt_tag(cli, context, base, names) -> tuple[str, str, str]:
    ref = f"{names('app')}:v1"
    old = build_from(cli, context, base.ref, ref, f"RUN echo {names.prefix}-1 > /version")
    new = build_from(cli, context, base.ref, ref, f"RUN echo {names.prefix}-2 > /version")
    assert old != new
    return ref, old, new


def test_rebuilding_a_tag_leaves_the_old_image_without_a_name(cli, base, names, context):
    ref, old, new = rebuilt_tag(cli, context, base, names)
    assert cli.image_id(ref) == new
    listed = cli.ok("images", "--no-trunc", "--format", "{{.ID}} {{.Repository}} {{.Tag}}",
                    "--filter", f"label={LABEL_CHECK}={names.prefix}").lines
    assert f"{old} <none> <none>" in listed
    assert f"{new} {cli.listed_name(ref).replace(':', ' ')}" in listed


def test_images_dangling_filter_lists_the_old_image(cli, base, names, context):
    ref, old, new = rebuilt_tag(cli, context, base, names)
    assert dangling_ids(cli, names) == [old]
