"""The classic builder's cache (seed §6): a rebuild reuses every unchanged step up to
the first changed one; `ENV REFRESHED_AT` busts it from there on; `--no-cache`
turns it off; COPY keys on content and mode, not mtime; `.dockerignore`d files
never reach it; rebuilding a tag leaves the old image dangling.

Every check builds on a base image of its own, so no other check's cache can hit.
"""
import os

from conformance import buildsteps, ids
from conformance.buildsteps import build, seed_dockerfile
from conformance.ids import short
from conformance.messages import expect_message
from conformance.naming import LABEL_CHECK


def test_rebuild_uses_cache_for_every_step_after_from(cli, base, names, context, messages):
    ctx = context({"Dockerfile": seed_dockerfile(base.ref)})
    tag = f"{names('web')}:v1"
    _, first = build(cli, messages, ctx, tag=tag)
    again, second = build(cli, messages, ctx, tag=tag)
    assert len(second.steps) == 5
    assert second.images() == first.images()
    assert [s.cached for s in second.steps] == [False, True, True, True, True]
    assert all(s.container is None for s in second.steps)
    assert second.image == first.image == cli.image_id(tag)
    for step in second.steps[1:]:
        expect_message("\n".join(step.lines), messages, "build.using_cache")


def test_changing_env_refreshed_at_rebuilds_that_step_and_every_later_one(
        cli, base, names, context, messages):
    tag = f"{names('web')}:v1"
    _, first = build(cli, messages, context({"Dockerfile": seed_dockerfile(base.ref)}), tag=tag)
    refreshed = context({"Dockerfile": seed_dockerfile(base.ref, refreshed="2016-11-10")})
    _, second = build(cli, messages, refreshed, tag=tag)
    assert second.step(3).instruction == "ENV REFRESHED_AT 2016-11-10"
    # FROM and MAINTAINER: unchanged and cached
    assert second.step(2).cached
    assert second.images()[:2] == first.images()[:2]
    # ENV and everything after it: run again, new images
    for before, after in zip(first.steps[2:], second.steps[2:]):
        assert not after.cached, after.lines
        assert after.image != before.image, (before, after)
    assert cli.image_id(tag) == second.image != first.image


def test_no_cache_rebuilds_every_step(cli, base, names, context, messages):
    ctx = context({"Dockerfile": seed_dockerfile(base.ref)})
    tag = f"{names('web')}:v1"
    _, first = build(cli, messages, ctx, tag=tag)
    result, second = build(cli, messages, ctx, "--no-cache", tag=tag)
    assert not any(s.cached for s in second.steps)
    run = second.step(4)
    assert run.instruction.startswith("RUN ")
    assert run.image != first.step(4).image
    assert cli.image_id(tag) == second.image != first.image
    assert messages["build.using_cache"] not in result.stdout


COPY_THEN_RUN = "FROM {base}\nCOPY page.html /www/page.html\nRUN cat /www/page.html > /copy\n"


def test_copy_with_changed_content_misses_the_cache(cli, base, context, messages):
    ctx = context({"Dockerfile": COPY_THEN_RUN.format(base=base.ref),
                   "page.html": "one\n"})
    _, first = build(cli, messages, ctx)
    (ctx / "page.html").write_text("two\n")
    _, second = build(cli, messages, ctx)
    assert not second.step(2).cached and not second.step(3).cached
    assert second.step(2).image != first.step(2).image
    assert second.step(3).image != first.step(3).image
    assert cli.ok("run", "--rm", second.image, "cat", "/copy").stdout == "two\n"


def test_copy_with_same_content_and_new_mtime_hits_the_cache(cli, base, context, messages):
    ctx = context({"Dockerfile": COPY_THEN_RUN.format(base=base.ref),
                   "page.html": "same\n"})
    page = ctx / "page.html"
    os.utime(page, (1_000_000_000, 1_000_000_000))
    _, first = build(cli, messages, ctx)
    os.utime(page, (1_500_000_000, 1_500_000_000))
    _, second = build(cli, messages, ctx)
    assert second.step(2).cached and second.step(3).cached
    assert second.images() == first.images()


def test_copy_with_changed_file_mode_misses_the_cache(cli, base, context, messages):
    ctx = context({"Dockerfile": f"FROM {base.ref}\nCOPY tool.sh /tool.sh\n",
                   "tool.sh": "echo hi\n"})
    tool = ctx / "tool.sh"
    tool.chmod(0o644)
    _, first = build(cli, messages, ctx)
    tool.chmod(0o755)
    _, second = build(cli, messages, ctx)
    assert not second.step(2).cached
    assert second.step(2).image != first.step(2).image
    assert cli.ok("run", "--rm", second.image, "stat", "-c", "%a", "/tool.sh").stdout.strip() == "755"


def test_change_to_a_dockerignored_file_keeps_the_cache(cli, base, context, messages):
    ctx = context({"Dockerfile": f"FROM {base.ref}\nCOPY . /ctx\n",
                   ".dockerignore": "secret.txt\n",
                   "secret.txt": "first\n",
                   "page.html": "page\n"})
    _, first = build(cli, messages, ctx)
    (ctx / "secret.txt").write_text("changed\n")
    _, second = build(cli, messages, ctx)
    assert second.step(2).cached
    assert second.image == first.image
    listed = cli.ok("run", "--rm", second.image, "ls", "-a", "/ctx").lines
    assert sorted(listed) == sorted([".", "..", ".dockerignore", "Dockerfile", "page.html"])


def test_changed_build_arg_misses_the_cache_from_the_first_run_step(cli, base, context, messages):
    ctx = context({"Dockerfile": f"FROM {base.ref}\nARG FLAVOUR=plain\nRUN echo $FLAVOUR > /flavour\n"})
    _, first = build(cli, messages, ctx, "--build-arg", "FLAVOUR=mint")
    _, same = build(cli, messages, ctx, "--build-arg", "FLAVOUR=mint")
    _, other = build(cli, messages, ctx, "--build-arg", "FLAVOUR=lemon")
    assert same.step(3).cached and same.images() == first.images()
    assert other.step(2).cached and other.step(2).image == first.step(2).image
    assert not other.step(3).cached and other.step(3).image != first.step(3).image
    assert cli.ok("run", "--rm", other.image, "cat", "/flavour").stdout == "lemon\n"


def test_steps_before_a_failed_step_are_cached_for_the_next_build(cli, base, context, messages):
    ctx = context({"Dockerfile": f"FROM {base.ref}\nRUN echo good > /good\nRUN exit 3\n"})
    failed = cli.build(ctx)
    assert failed.rc != 0, failed.describe()
    good = buildsteps.parse(failed.stdout, messages).step(2)
    (ctx / "Dockerfile").write_text(f"FROM {base.ref}\nRUN echo good > /good\nRUN echo fixed > /fixed\n")
    _, fixed = build(cli, messages, ctx)
    assert fixed.step(2).cached and fixed.step(2).image == good.image
    assert not fixed.step(3).cached


def test_rebuilding_a_tag_leaves_the_old_image_dangling(cli, base, names, context, messages):
    tag = f"{names('web')}:v1"
    old = cli.build_ok(context({"Dockerfile": seed_dockerfile(base.ref)}), tag=tag)
    new = cli.build_ok(context({"Dockerfile": seed_dockerfile(base.ref, refreshed="2016-11-10")}), tag=tag)
    assert new != old
    assert cli.image_id(tag) == new
    mine = f"label={LABEL_CHECK}={names.prefix}"
    dangling = cli.ok("images", "--filter", "dangling=true", "--filter", mine, "-q", "--no-trunc").lines
    assert [ids.full(i) for i in dangling] == [old]
    listed = cli.ok("images", "-a", "--filter", mine, "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").lines
    assert f"{short(old)} {messages['build.dangling_ref']}" in listed
    assert f"{short(new)} {cli.listed_name(tag)}" in listed


def test_rebuilding_one_of_two_tags_leaves_no_dangling_image(cli, base, names, context):
    repo = names("web")
    old = cli.build_ok(context({"Dockerfile": seed_dockerfile(base.ref)}),
                       "-t", f"{repo}:v2", tag=f"{repo}:v1")
    new = cli.build_ok(context({"Dockerfile": seed_dockerfile(base.ref, refreshed="2016-11-10")}),
                       tag=f"{repo}:v1")
    assert new != old
    mine = f"label={LABEL_CHECK}={names.prefix}"
    assert cli.ok("images", "--filter", "dangling=true", "--filter", mine, "-q").lines == []
    tags = [line.split() for line in cli.ok("images", "--no-trunc", "--format", "{{.Tag}} {{.ID}}", repo).lines]
    assert sorted((tag, ids.full(image)) for tag, image in tags) == [("v1", new), ("v2", old)]
