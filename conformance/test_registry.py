"""Push, pull, images and search against a real registry (seed §4, §5, §7).

The registry is Debian's docker-registry (distribution 2.8) on 127.0.0.1, one per
worker; every repository pushed there carries a name from ``names``. What the
implementation did is read back through the Registry HTTP API v2 (tags list,
catalog, manifests) as well as through its own CLI.
"""
import re
import socket

import requests

from conformance.helpers import build_from
from conformance.messages import MessageMismatch, expect_message, template_regex

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKERFILE = "FROM {base}\nRUN echo 'Hi, I am in your container' > /www/index.html\n"


# --- helpers ------------------------------------------------------------------------------

def api_get(registry, path: str, **headers) -> requests.Response:
    """GET on the registry's API (loopback only; the registry's credentials, if any)."""
    assert registry.address.startswith("127."), registry.address
    return requests.get(registry.url(path), headers=headers, auth=registry.auth, timeout=10)


def registry_manifest(registry, repo: str, reference: str) -> tuple[str, dict, int]:
    """(Docker-Content-Digest, manifest JSON, body size) of a v2 schema 2 manifest."""
    response = api_get(registry, f"/v2/{repo}/manifests/{reference}", Accept=MANIFEST_V2)
    assert response.status_code == 200, (response.status_code, response.text)
    return response.headers["Docker-Content-Digest"], response.json(), len(response.content)


def expect_line(text: str, messages: dict, key: str, **values) -> None:
    """One line of the output is exactly the message (no prefix, no suffix)."""
    __tracebackhide__ = True
    regex = template_regex(messages[key], values)
    if not any(regex.fullmatch(line.rstrip()) for line in text.splitlines()):
        raise MessageMismatch(
            f"no line is message {key!r}.\nexpected: {messages[key]!r} with {values}\nin: {text!r}", key)


def build_for(cli, base, context, ref: str) -> str:
    """An image of two layers (base + one RUN) tagged ``ref``; returns its id."""
    return cli.build_ok(context({"Dockerfile": DOCKERFILE.format(base=base.ref)}), tag=ref)


def pushed(cli, base, context, registry, repo: str, tag: str = "v1") -> tuple[str, str]:
    """Build ``<registry>/<repo>:<tag>``, push it, remove it locally: (image id, digest)."""
    ref = f"{registry.address}/{repo}:{tag}"
    image = build_for(cli, base, context, ref)
    cli.ok("push", ref)
    digest, _, _ = registry_manifest(registry, repo, tag)
    cli.ok("rmi", ref)
    assert not cli.exists("image", image)
    return image, digest


# --- push ---------------------------------------------------------------------------------

def test_push_prints_the_digest_and_size_the_registry_serves(cli, base, context, registry, names, messages):
    repo = names("web")
    ref = f"{registry.address}/{repo}:v1"
    build_for(cli, base, context, ref)
    result = cli.ok("push", ref)
    digest, _, size = registry_manifest(registry, repo, "v1")
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    assert f"{registry.address}/{repo}@{digest}" in cli.inspect(ref, "{{json .RepoDigests}}")
    expect_line(result.stdout, messages, "registry.push_refers_to", repo=f"{registry.address}/{repo}")
    expect_line(result.stdout, messages, "registry.push_digest_of", tag="v1", digest=digest, size=size)


def test_pushed_tags_are_listed_by_the_registry(cli, base, context, registry, names):
    repo = names("web")
    build_for(cli, base, context, f"{registry.address}/{repo}:v1")
    cli.ok("tag", f"{registry.address}/{repo}:v1", f"{registry.address}/{repo}:v2")
    cli.ok("push", f"{registry.address}/{repo}:v1")
    cli.ok("push", f"{registry.address}/{repo}:v2")
    tags = api_get(registry, f"/v2/{repo}/tags/list")
    assert tags.status_code == 200, tags.text
    assert tags.json()["name"] == repo
    assert sorted(tags.json()["tags"]) == ["v1", "v2"]


def test_pushed_repositories_appear_in_the_catalog(cli, base, context, registry, names):
    first, second = names("one"), names("two")
    build_for(cli, base, context, f"{registry.address}/{first}:v1")
    cli.ok("tag", f"{registry.address}/{first}:v1", f"{registry.address}/{second}:v1")
    cli.ok("push", f"{registry.address}/{first}:v1")
    cli.ok("push", f"{registry.address}/{second}:v1")
    catalog = api_get(registry, "/v2/_catalog?n=1000")
    assert catalog.status_code == 200, catalog.text
    mine = sorted(r for r in catalog.json()["repositories"] if r.startswith(names.prefix + "-"))
    assert mine == sorted([first, second])


def test_pushed_manifest_has_the_image_config_and_its_layers(cli, base, context, registry, names):
    repo = names("web")
    ref = f"{registry.address}/{repo}:v1"
    image = build_for(cli, base, context, ref)
    cli.ok("push", ref)
    _, manifest, _ = registry_manifest(registry, repo, "v1")
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == MANIFEST_V2
    assert manifest["config"]["digest"] == image
    diff_ids = cli.inspect(ref, "{{range .RootFS.Layers}}{{.}} {{end}}").split()
    assert len(diff_ids) == 2
    assert len(manifest["layers"]) == len(diff_ids)
    config = api_get(registry, f"/v2/{repo}/blobs/{image}")
    assert config.status_code == 200
    assert config.json()["rootfs"]["diff_ids"] == diff_ids


# --- pull ---------------------------------------------------------------------------------

def test_pull_brings_back_the_pushed_image(cli, base, context, registry, names, messages):
    repo = names("web")
    ref = f"{registry.address}/{repo}:v1"
    image, digest = pushed(cli, base, context, registry, repo)
    result = cli.ok("pull", ref)
    assert cli.image_id(ref) == image
    expect_line(result.stdout, messages, "registry.pulling_from_tag", tag="v1", repo=repo)
    expect_line(result.stdout, messages, "registry.pull_digest_of", digest=digest)
    expect_line(result.stdout, messages, "registry.pull_downloaded", ref=ref)


def test_pull_without_a_tag_pulls_latest(cli, base, context, registry, names, messages):
    repo = names("web")
    image, digest = pushed(cli, base, context, registry, repo, tag="latest")
    result = cli.ok("pull", f"{registry.address}/{repo}")
    assert cli.image_id(f"{registry.address}/{repo}:latest") == image
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[0] == messages["registry.default_tag"], result.stdout
    expect_line(result.stdout, messages, "registry.pulling_from", repo=repo)
    expect_line(result.stdout, messages, "registry.pull_digest_of", digest=digest)
    expect_line(result.stdout, messages, "registry.pull_downloaded", ref=f"{registry.address}/{repo}:latest")


def test_pull_of_a_present_image_says_it_is_up_to_date(cli, base, context, registry, names, messages):
    repo = names("web")
    ref = f"{registry.address}/{repo}:v1"
    image, digest = pushed(cli, base, context, registry, repo)
    cli.ok("pull", ref)
    again = cli.ok("pull", ref)
    assert cli.image_id(ref) == image
    expect_line(again.stdout, messages, "registry.pull_digest_of", digest=digest)
    expect_line(again.stdout, messages, "registry.pull_up_to_date", ref=ref)
    assert not template_regex(messages["registry.pull_downloaded"], {"ref": ref}).search(again.stdout)


def test_run_pulls_a_missing_image_first(cli, base, context, registry, names, messages):
    repo = names("web")
    ref = f"{registry.address}/{repo}:v1"
    image, digest = pushed(cli, base, context, registry, repo)
    result = cli.ok("run", "--rm", ref, "cat", "/www/index.html")
    assert result.stdout == "Hi, I am in your container\n"
    assert cli.image_id(ref) == image
    expect_line(result.stderr, messages, "registry.run_unable_to_find", ref=ref)
    expect_line(result.stderr, messages, "registry.pull_digest_of", digest=digest)
    expect_line(result.stderr, messages, "registry.pull_downloaded", ref=ref)
    unable = template_regex(messages["registry.run_unable_to_find"], {"ref": ref}).search(result.stderr)
    downloaded = template_regex(messages["registry.pull_downloaded"], {"ref": ref}).search(result.stderr)
    assert unable.start() < downloaded.start()


def test_build_pulls_a_missing_base_image_first(cli, base, context, registry, names):
    repo = names("web")
    ref = f"{registry.address}/{repo}:v1"
    image, digest = pushed(cli, base, context, registry, repo)
    result = cli.build(context({"Dockerfile": f"FROM {ref}\nRUN cp /www/index.html /copy\n"}),
                       tag=f"{names('child')}:1")
    assert result.rc == 0, result.describe()
    assert cli.image_id(ref) == image  # (the pull's words in a build's output are each builder's own)
    assert cli.ok("run", "--rm", result.image, "cat", "/copy").stdout == "Hi, I am in your container\n"


def test_build_pull_takes_the_registrys_newer_base_image(cli, base, context, registry, names):
    # the tag is present here (an older image); --pull asks the registry anyway, without it
    # the build uses what is here
    repo = names("web")
    ref = f"{registry.address}/{repo}:v1"
    old, _ = pushed(cli, base, context, registry, repo)
    cli.ok("pull", ref)
    build_from(cli, context, base.ref, ref, "RUN echo newer > /newer")
    cli.ok("push", ref)
    cli.ok("tag", old, ref)
    child = f"FROM {ref}\nRUN cat /newer 2>/dev/null || echo none\n"
    kept = cli.build_ok(context({"Dockerfile": child}), "--no-cache", tag=f"{names('kept')}:1")
    assert cli.ok("run", "--rm", kept, "sh", "-c", "cat /newer || echo none").stdout == "none\n"
    result = cli.build(context({"Dockerfile": child}), "--pull", tag=f"{names('pulled')}:1")
    assert result.rc == 0, result.describe()
    assert cli.ok("run", "--rm", result.image, "cat", "/newer").stdout == "newer\n"
    assert cli.image_id(ref) != old


def test_pull_of_a_missing_tag_says_manifest_unknown(cli, base, context, registry, names, messages):
    repo = names("web")
    ref = f"{registry.address}/{repo}:v1"
    build_for(cli, base, context, ref)
    cli.ok("push", ref)
    missing = f"{registry.address}/{repo}:nope"
    result = cli.run("pull", missing)
    assert result.rc == 1, result.describe()
    assert not cli.exists("image", missing)
    expect_message(result.stderr, messages, "registry.manifest_unknown", ref=missing)


def test_pull_by_digest_brings_back_the_same_image(cli, base, context, registry, names, messages):
    repo = names("web")
    image, digest = pushed(cli, base, context, registry, repo)
    by_digest = f"{registry.address}/{repo}@{digest}"
    result = cli.ok("pull", by_digest)
    assert cli.image_id(by_digest) == image
    assert by_digest in cli.inspect(image, "{{json .RepoDigests}}")
    assert cli.inspect(image, "{{json .RepoTags}}") == "[]"
    expect_line(result.stdout, messages, "registry.pull_digest_of", digest=digest)
    expect_line(result.stdout, messages, "registry.pull_downloaded", ref=by_digest)


def test_images_digests_shows_the_registry_digest(cli, base, context, registry, names):
    repo = names("web")
    ref = f"{registry.address}/{repo}:v1"
    image, digest = pushed(cli, base, context, registry, repo)
    cli.ok("pull", ref)
    out = cli.ok("images", "--digests", f"{registry.address}/{repo}")
    header = out.lines[0]
    columns = ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID"]
    assert [header.index(c) for c in columns] == sorted(header.index(c) for c in columns), header
    rows = [line.split() for line in out.lines[1:]]
    assert len(rows) == 1, out.stdout
    assert rows[0][:4] == [f"{registry.address}/{repo}", "v1", digest, image.removeprefix("sha256:")[:12]]


def test_images_after_pull_lists_the_registry_address_in_the_repository(cli, base, context, registry, names):
    repo = names("web")
    ref = f"{registry.address}/{repo}:v1"
    image, _ = pushed(cli, base, context, registry, repo)
    cli.ok("pull", ref)
    out = cli.ok("images", f"{registry.address}/{repo}")
    assert out.lines[0].split()[:2] == ["REPOSITORY", "TAG"]
    rows = [line.split() for line in out.lines[1:]]
    assert len(rows) == 1, out.stdout
    assert rows[0][:3] == [f"{registry.address}/{repo}", "v1", image.removeprefix("sha256:")[:12]]


# --- search -------------------------------------------------------------------------------

def test_search_lists_the_pushed_repository_where_the_registry_can_search(cli, base, context, registry, names,
                                                                         messages):
    """Docker's search calls the registry's v1 search endpoint: a registry that has it (strata's)
    lists the repository; one that has not (distribution 2.8) answers 404, which Docker reports."""
    repo = names("web")
    ref = f"{registry.address}/{repo}:v1"
    build_for(cli, base, context, ref)
    cli.ok("push", ref)
    result = cli.run("search", f"{registry.address}/{repo}")
    if not registry.v1_search:
        assert result.rc == 1, result.describe()
        assert result.stdout == ""
        expect_message(result.stderr, messages, "registry.search_404")
        return
    assert result.rc == 0, result.describe()
    header = result.lines[0].split()
    # docker CLI 28 has no AUTOMATED column any more (the seed's older CLI had one)
    assert header == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"], result.stdout
    names_listed = [line.split()[0] for line in result.lines[1:]]
    assert names_listed == [repo], result.stdout  # as the registry names it, without its address


def test_search_filters_apply_and_unknown_ones_are_refused(cli, base, context, registry, names, messages):
    # refused before the registry is asked; applied to what it lists (stars, is-official,
    # is-automated)
    for given, shown in (("foo=1", "foo"), ("stars=abc", "stars=abc"), ("is-official=maybe", "is-official=[maybe]")):
        result = cli.run("search", "--filter", given, f"{registry.address}/anything")
        assert result.rc == 1 and result.stdout == "", result.describe()
        expect_message(result.stderr, messages, "registry.search_invalid_filter", filter=shown)
    if not registry.v1_search:
        return
    repo = names("web")
    ref = f"{registry.address}/{repo}:v1"
    build_for(cli, base, context, ref)
    cli.ok("push", ref)

    def listed(*filters: str) -> list[str]:
        words = [w for f in filters for w in ("--filter", f)]
        return cli.ok("search", *words, "--format", "{{.Name}}", f"{registry.address}/{repo}").lines

    assert listed() == [repo]
    assert listed("stars=0", "is-official=false", "is-automated=false") == [repo]
    assert listed("stars=1") == []
    assert listed("is-official=true") == []
    assert listed("is-automated=true") == []


# --- a registry that is not there ------------------------------------------------------------

def unused_loopback_address() -> str:
    """127.0.0.1:<a port the kernel just handed out and nobody listens on any more>."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def test_pull_from_an_address_nothing_listens_on_says_connection_refused(cli, names, messages):
    address = unused_loopback_address()
    ref = f"{address}/{names('web')}:v1"
    result = cli.run("pull", ref)
    assert result.rc == 1, result.describe()
    expect_message(result.stderr, messages, "registry.pull_refused", address=address)
    assert not cli.exists("image", ref)


def test_push_to_an_address_nothing_listens_on_says_connection_refused(cli, base, names, messages):
    address = unused_loopback_address()
    repo = f"{address}/{names('web')}"
    cli.ok("tag", base.ref, f"{repo}:v1")
    result = cli.run("push", f"{repo}:v1")
    assert result.rc == 1, result.describe()
    expect_line(result.stdout, messages, "registry.push_refers_to", repo=repo)
    expect_message(result.stderr, messages, "registry.push_refused", address=address)
    assert cli.exists("image", f"{repo}:v1")  # a failed push leaves the local image alone
