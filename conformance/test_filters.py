"""`images --filter` and `ps --filter`: every filter Docker documents is applied (a value
that matches lists the object, one that does not leaves it out) or a bad one is refused
in dockerd's words — never accepted and ignored.

Listings are scoped to the check's own objects by the `strata.check` label every base
image carries (images and containers inherit it), so other checks' objects never count.
"""
import pytest

from conformance.messages import expect_message
from conformance.naming import LABEL_CHECK


def _scope(names) -> list[str]:
    return ["--filter", f"label={LABEL_CHECK}={names.prefix}"]


# --- images ---------------------------------------------------------------------------------

@pytest.fixture
def two_images(cli, base, names):
    """The base image, then (later) a committed image with a label of its own, tagged v1."""
    ctr = names("src")
    cli.ok("run", "--name", ctr, base.ref, "touch", "/made")
    ref = f"{names('later')}:v1"
    cli.ok("commit", "--change", "LABEL probe=later", ctr, ref)
    cli.ok("rm", ctr)
    return base, ref, _hex(cli.image_id(ref))


def _hex(image_id: str) -> str:
    return image_id.removeprefix("sha256:")


def image_ids(cli, names, *filters: str) -> list[str]:
    """The scoped listing's full ids, as hex (what `commit` prints differs between engines)."""
    args = [a for f in filters for a in ("--filter", f)]
    return sorted(_hex(i) for i in cli.ok("images", "-q", "--no-trunc", *_scope(names), *args).lines)


def test_images_filter_dangling(cli, base, names):
    ctr = names("src")
    cli.ok("run", "--name", ctr, base.ref, "touch", "/made")
    dangling = _hex(cli.ok("commit", ctr).stdout.strip())
    cli.ok("rm", ctr)
    assert image_ids(cli, names, "dangling=true") == [dangling]
    assert image_ids(cli, names, "dangling=false") == [_hex(base.id)]


def test_images_filter_label(cli, names, two_images):
    base, ref, later = two_images
    assert image_ids(cli, names, "label=probe") == [later]
    assert image_ids(cli, names, "label=probe=later") == [later]
    assert image_ids(cli, names, "label=probe=other") == []


def test_images_filter_before_and_since(cli, names, two_images):
    base, ref, later = two_images
    assert image_ids(cli, names, f"before={ref}") == [_hex(base.id)]
    assert image_ids(cli, names, f"before={base.ref}") == []
    assert image_ids(cli, names, f"since={base.ref}") == [later]
    assert image_ids(cli, names, f"since={ref}") == []


def test_images_filter_reference(cli, names, two_images):
    base, ref, later = two_images
    repo = ref.split(":")[0]
    assert image_ids(cli, names, f"reference={ref}") == [later]
    assert image_ids(cli, names, f"reference={repo}:v2") == []
    assert image_ids(cli, names, f"reference={names.prefix}-lat*") == [later]


def test_images_filter_before_an_unknown_image_is_refused(cli, names, messages):
    missing = names("missing")
    result = cli.fails("images", "--filter", f"before={missing}")
    expect_message(result.stderr, messages, "image.no_such_image", ref=f"{missing}:latest")


def test_images_unknown_filter_is_refused(cli, base, messages):
    result = cli.fails("images", "--filter", "bogus=1")
    expect_message(result.stderr, messages, "filter.invalid", filter="bogus")


# --- ps -------------------------------------------------------------------------------------

class Pair:
    """A running container (label probe=up, port 80 published, 81 exposed) and, created
    after it, one that exited with code 3."""

    def __init__(self, cli, base, names):
        self.cli, self.names = cli, names
        self.up, self.down = names("up"), names("down")
        self.up_id = cli.ok("run", "-d", "--name", self.up, "-l", "probe=up", "-p", "127.0.0.1::80",
                            "--expose", "81", base.ref, "sleep", "300").stdout.strip()
        self.down_id = cli.ok("create", "--name", self.down, base.ref, "sh", "-c", "exit 3").stdout.strip()
        cli.run("start", "-a", self.down)
        self.host_port = cli.ok("port", self.up, "80").stdout.strip().rsplit(":", 1)[1]

    def listed(self, *filters: str, all_: bool = True) -> set[str]:
        args = [a for f in filters for a in ("--filter", f)]
        out = self.cli.ok("ps", *(["-a"] if all_ else []), "--format", "{{.Names}}", *_scope(self.names), *args)
        return set(out.lines)

    @property
    def both(self) -> set[str]:
        return {self.up, self.down}


@pytest.fixture
def pair(cli, base, names) -> Pair:
    return Pair(cli, base, names)


def test_ps_filter_id(pair):
    assert pair.listed(f"id={pair.up_id[:12]}") == {pair.up}
    assert pair.listed(f"id={pair.down_id}") == {pair.down}


def test_ps_filter_name(pair):
    assert pair.listed(f"name=^{pair.up}$") == {pair.up}
    assert pair.listed(f"name={pair.names.prefix}-nobody") == set()


def test_ps_filter_label(pair):
    assert pair.listed("label=probe") == {pair.up}
    assert pair.listed("label=probe=up") == {pair.up}
    assert pair.listed("label=probe=down") == set()


def test_ps_filter_exited(pair):
    assert pair.listed("exited=3") == {pair.down}
    assert pair.listed("exited=0") == set()
    assert pair.listed("exited=3", all_=False) == set()  # stopped ones still need -a


def test_ps_filter_exited_needs_a_number(pair, messages):
    result = pair.cli.fails("ps", "-a", "--filter", "exited=three")
    expect_message(result.stderr, messages, "filter.exited_not_a_number", value="three")


def test_ps_filter_status(pair, messages):
    assert pair.listed("status=running") == {pair.up}
    assert pair.listed("status=exited", all_=False) == {pair.down}  # status lists stopped ones without -a
    assert pair.listed("status=paused") == set()
    result = pair.cli.fails("ps", "--filter", "status=sleepy")
    expect_message(result.stderr, messages, "filter.invalid_value", filter="status", value="sleepy")


def test_ps_filter_ancestor(pair, cli, base, names):
    assert pair.listed(f"ancestor={base.ref}") == pair.both
    other = f"{names('other')}:v1"
    cli.ok("run", "--name", names("src"), base.ref, "true")
    cli.ok("commit", names("src"), other)
    assert pair.listed(f"ancestor={other}") == set()


def test_ps_filter_before_and_since(pair, messages):
    assert pair.listed(f"before={pair.down}") == {pair.up}
    assert pair.listed(f"since={pair.up}") == {pair.down}
    assert pair.listed(f"since={pair.down}") == set()
    missing = pair.names("missing")
    result = pair.cli.fails("ps", "--filter", f"before={missing}")
    expect_message(result.stderr, messages, "filter.no_such_container", name=missing)


def test_ps_filter_volume(pair):
    # neither container mounts a volume
    assert pair.listed(f"volume={pair.names('vol')}") == set()
    assert pair.listed("volume=/data") == set()


def test_ps_filter_network(pair):
    assert pair.listed("network=bridge") == pair.both
    assert pair.listed("network=none") == set()


def test_ps_filter_publish(pair):
    assert pair.listed(f"publish={pair.host_port}") == {pair.up}
    assert pair.listed(f"publish={pair.host_port}/tcp") == {pair.up}
    assert pair.listed(f"publish={pair.host_port}/udp") == set()


def test_ps_filter_expose(pair):
    assert pair.listed("expose=81") == {pair.up}
    assert pair.listed("expose=80-81/tcp") == {pair.up}
    assert pair.listed("expose=80/udp") == set()
    assert pair.listed("expose=82") == set()


def test_ps_filter_port_must_be_a_number(pair, messages):
    result = pair.cli.fails("ps", "--filter", "publish=http")
    expect_message(result.stderr, messages, "filter.bad_port", filter="publish", value="http")


def test_ps_filter_health(pair, messages):
    # no healthcheck: both have health "none"
    assert pair.listed("health=none") == pair.both
    assert pair.listed("health=healthy") == set()
    result = pair.cli.fails("ps", "--filter", "health=great")
    expect_message(result.stderr, messages, "filter.bad_health", value="great")


def test_ps_filter_isolation(pair):
    # Linux has one isolation: the daemon lets every value through
    assert pair.listed("isolation=default") == pair.both


def test_ps_filter_is_task(pair, messages):
    assert pair.listed("is-task=false") == pair.both
    assert pair.listed("is-task=true") == set()
    result = pair.cli.fails("ps", "--filter", "is-task=maybe")
    expect_message(result.stderr, messages, "filter.invalid_value", filter="is-task", value="[maybe]")


def test_ps_unknown_filter_is_refused(cli, messages):
    result = cli.fails("ps", "--filter", "bogus=1")
    expect_message(result.stderr, messages, "filter.invalid", filter="bogus")
