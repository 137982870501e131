"""The seed's whole-store clean-ups (§8), run unchanged through the shell, and the
prune commands: on a private instance only, so nothing else's images are touched.

Each check sets a store up (tagged images, images left dangling by a rebuild,
intermediate images of multi-step builds, stopped and running containers), runs
the command, and compares the store before and after.
"""
from conformance import ids
from conformance.ids import short  # noqa: F401 (the checks' short ids)
from conformance.helpers import build_from
from conformance.messages import expect_message
from conformance.naming import LABEL_CHECK

PS_RM = "{cli} ps -a | awk '{{print $1}}' | grep -v CONTAINER | xargs {cli} rm"
NONE_RMI = "{cli} images | grep '<none>' | awk '{{print $3}}' | xargs {cli} rmi"
RMI_ALL = "{cli} rmi $({cli} images -a -q)"




def build(cli, context, tag, *steps) -> str:
    """Build `FROM` the private instance's base plus steps; returns the full image id."""
    return build_from(cli, context, cli.base.ref, tag, *steps)


def all_images(cli) -> set[str]:
    return {ids.full(i) for i in cli.ok("images", "-a", "-q", "--no-trunc").lines}


def tags(cli) -> set[str]:
    """The image names listed, in the form the check gave them (Implementation.given_name)."""
    return {cli.impl.given_name(line) for line in cli.ok("images", "--format", "{{.Repository}}:{{.Tag}}").lines
            if "<none>" not in line}


def containers(cli) -> set[str]:
    return set(cli.ok("ps", "-a", "-q", "--no-trunc").lines)


def dangling(cli) -> set[str]:
    """Untagged images nothing is built on (with -a, intermediate images would count too)."""
    return {ids.full(i) for i in cli.ok("images", "-q", "--no-trunc", "--filter", "dangling=true").lines}


# A long-running container that ends on SIGTERM (a busybox `sleep` as PID 1 ignores
# it), so that the private instance shuts down without waiting for a stop timeout.
RUNNING = ("sh", "-c", 'trap "exit 0" TERM; sleep 1000 & wait')


def run_container(cli, image, name, *, running=False) -> str:
    if running:
        cli.ok("run", "-d", "--name", name, image, *RUNNING)
    else:
        cli.ok("run", "--name", name, image, "true")
    return cli.ok("container", "inspect", "--format", "{{.Id}}", name).stdout.strip()


def store_with_dangling_images(cli, context, names) -> dict[str, object]:
    """A tagged three-step image rebuilt with its last step changed (the old top is
    left dangling, its parents are shared), and a one-step image built three times."""
    app, web = f"{names('app')}:v1", f"{names('web')}:v1"
    steps = [f"RUN echo {names.prefix} > /a", "ENV STEP=2"]
    old_app = build(cli, context, app, *steps, "RUN echo 1 > /b")
    build(cli, context, app, *steps, "RUN echo 2 > /b")
    old_web = [build(cli, context, web, f"RUN echo {n} > /web") for n in (1, 2)]
    build(cli, context, web, "RUN echo 3 > /web")
    state = {"dangling": {old_app, *old_web}, "images": all_images(cli), "tags": tags(cli)}
    assert dangling(cli) == state["dangling"]
    assert state["tags"] == {cli.base.ref, app, web}
    return state


# --- the seed's pipelines -----------------------------------------------------------------

def test_ps_awk_xargs_rm_removes_stopped_containers_and_leaves_a_running_one(private, names, messages):
    stopped = {run_container(private, private.base.ref, names(f"stopped{n}")) for n in (1, 2, 3)}
    running = run_container(private, private.base.ref, names("running"), running=True)
    assert containers(private) == stopped | {running}
    result = private.shell(PS_RM)
    assert result.rc != 0  # xargs reports that one `rm` failed
    assert containers(private) == {running}
    assert private.ok("container", "inspect", "--format", "{{.State.Running}}", running).stdout.strip() == "true"
    assert {line[:12] for line in stopped} == set(result.lines)  # rm echoes the ids it was given
    expect_message(result.stderr, messages, "container.remove_running", id=running)


def test_images_grep_none_xargs_rmi_removes_dangling_images_and_keeps_tagged_ones(
        private, names, context, messages):
    state = store_with_dangling_images(private, context, names)
    result = private.shell(NONE_RMI)
    assert result.rc == 0
    assert dangling(private) == set()
    assert all_images(private) == state["images"] - state["dangling"]
    assert tags(private) == state["tags"]
    for image in state["dangling"]:
        expect_message(result.stdout, messages, "rmi.deleted", id=image)


def test_rmi_all_images_empties_a_store_whose_tags_are_all_leaves(private, names, context, messages):
    store_with_dangling_images(private, context, names)
    # Untag the base (it only loses its name: it has children). A tagged parent
    # listed before its children would stay, and `images -a` orders images created
    # within the same second arbitrarily.
    private.ok("rmi", private.base.ref)
    leaves = {ref: private.image_id(ref) for ref in tags(private)}
    assert len(leaves) == 2
    result = private.shell(RMI_ALL)
    # every intermediate image fails once: listed before its child it has a child
    # (conflict), listed after it the child's removal has already deleted it
    assert result.rc != 0
    assert all_images(private) == set()
    for ref, image in leaves.items():
        expect_message(result.stdout, messages, "rmi.untagged", ref=private.listed_name(ref))
        expect_message(result.stdout, messages, "rmi.deleted", id=image)


def test_rmi_all_images_leaves_the_images_it_must_not_remove(private, names, context, messages):
    base = private.base
    stopped = run_container(private, base.ref, names("stopped"))
    shared = build(private, context, f"{names('one')}:v1", f"ENV SHARED={names.prefix}")
    private.ok("tag", shared, f"{names('two')}:v1")
    build(private, context, f"{names('web')}:v1", "RUN echo 1 > /web")
    build(private, context, f"{names('web')}:v1", "RUN echo 2 > /web")
    build(private, context, f"{names('lone')}:v1", "RUN echo 3 > /lone")
    result = private.shell(RMI_ALL)
    assert result.rc == 1
    assert all_images(private) == {base.id, shared}
    assert tags(private) == {base.ref, f"{names('one')}:v1", f"{names('two')}:v1"}
    assert containers(private) == {stopped}
    expect_message(result.stderr, messages, "rmi.conflict_multiple_repositories", image=short(shared))
    # the base has a child left (checked before its stopped container)
    expect_message(result.stderr, messages, "rmi.conflict_children", image=base.short_id)


# --- prune ---------------------------------------------------------------------------------

def test_image_prune_removes_only_dangling_images(private, names, context, messages):
    state = store_with_dangling_images(private, context, names)
    result = private.ok("image", "prune", "-f")
    assert dangling(private) == set()
    assert all_images(private) == state["images"] - state["dangling"]
    assert tags(private) == state["tags"]
    expect_message(result.stdout, messages, "rmi.prune.deleted_images")
    for image in state["dangling"]:
        expect_message(result.stdout, messages, "rmi.prune.deleted", id=image)
    expect_message(result.stdout, messages, "rmi.prune.reclaimed")


def test_image_prune_all_removes_every_image_no_container_uses(private, names, context, messages):
    base = private.base
    used_stopped = build(private, context, f"{names('stopped')}:v1", "RUN echo s > /s")
    old_running = build(private, context, f"{names('running')}:v1", "RUN echo 1 > /r")
    used_running = build(private, context, f"{names('running')}:v1", "RUN echo 2 > /r")
    unused = build(private, context, f"{names('unused')}:v1", "RUN echo u > /u")
    run_container(private, used_stopped, names("c1"))
    run_container(private, used_running, names("c2"), running=True)
    result = private.ok("image", "prune", "-a", "-f")
    # the base loses its name but stays: it is the parent of images in use
    assert all_images(private) == {base.id, used_stopped, used_running}
    assert tags(private) == {f"{names('stopped')}:v1", f"{names('running')}:v1"}
    expect_message(result.stdout, messages, "rmi.prune.untagged", ref=base.ref)
    expect_message(result.stdout, messages, "rmi.prune.untagged", ref=f"{names('unused')}:v1")
    for image in (old_running, unused):
        expect_message(result.stdout, messages, "rmi.prune.deleted", id=image)


def test_container_prune_removes_stopped_containers_only(private, names, messages):
    stopped = {run_container(private, private.base.ref, names(f"stopped{n}")) for n in (1, 2)}
    running = run_container(private, private.base.ref, names("running"), running=True)
    result = private.ok("container", "prune", "-f")
    assert containers(private) == {running}
    assert private.image_id(private.base.ref) == private.base.id
    expect_message(result.stdout, messages, "rmi.prune.deleted_containers")
    assert stopped <= set(result.lines)


def test_image_prune_filters_until_and_label(private, names, context, messages):
    state = store_with_dangling_images(private, context, names)
    private.ok("image", "prune", "-f", "--filter", "until=1h")  # all of them are younger
    private.ok("image", "prune", "-f", "--filter", f"label={names.prefix}-nobody")
    assert all_images(private) == state["images"]
    result = private.fails("image", "prune", "-f", "--filter", "until=soon")
    expect_message(result.stderr, messages, "filter.bad_until", value="soon")
    private.ok("image", "prune", "-f", "--filter", f"label={LABEL_CHECK}")  # inherited from the base
    assert all_images(private) == state["images"] - state["dangling"]


def test_container_prune_filters_label_and_until(private, names, messages):
    base = private.base.ref
    keep, drop = names("keep"), names("drop")
    private.ok("run", "--name", keep, "-l", "probe=keep", base, "true")
    private.ok("run", "--name", drop, "-l", "probe=drop", base, "true")
    made = {name: private.ok("container", "inspect", "--format", "{{.Id}}", name).stdout.strip()
           for name in (keep, drop)}
    result = private.ok("container", "prune", "-f", "--filter", "label!=probe=keep")
    assert containers(private) == {made[keep]}
    assert made[drop] in result.lines
    private.ok("container", "prune", "-f", "--filter", "until=1h")  # it is younger
    assert containers(private) == {made[keep]}
    result = private.fails("container", "prune", "-f", "--filter", "until=soon")
    expect_message(result.stderr, messages, "filter.bad_until", value="soon")
    private.ok("container", "prune", "-f", "--filter", "label=probe=keep")
    assert containers(private) == set()
