"""Listing images (seed §3): columns, short ids, repository filter, -q, -a, --format."""
import re

import pytest

from conformance.messages import expect_message

IMAGES_HEADER = ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]


def test_images_lists_columns_and_a_12_hex_id(cli, base):
    out = cli.ok("images", base.ref.split(":")[0])
    header = out.lines[0]
    positions = [header.index(col) for col in IMAGES_HEADER]
    assert positions == sorted(positions), header
    row = out.lines[1].split()
    assert row[0] == cli.listed_name(base.ref.split(":")[0])
    assert row[1] == "latest"
    assert re.fullmatch(r"[0-9a-f]{12}", row[2])
    assert row[2] == base.short_id


def test_images_repository_filter_lists_only_that_repository(cli, base, names):
    other = f"{names('other')}:v1"
    cli.ok("tag", base.ref, other)
    listed = cli.ok("images", "--format", "{{.Repository}}:{{.Tag}}", names("other")).lines
    assert listed == [cli.listed_name(other)]


def test_images_repository_and_tag_filter(cli, base, names):
    repo = names("tagged")
    cli.ok("tag", base.ref, f"{repo}:one")
    cli.ok("tag", base.ref, f"{repo}:two")
    assert cli.ok("images", "--format", "{{.Tag}}", f"{repo}:two").lines == ["two"]
    assert sorted(cli.ok("images", "--format", "{{.Tag}}", repo).lines) == ["one", "two"]


def test_images_quiet_prints_short_ids(cli, base):
    lines = cli.ok("images", "-q", base.ref.split(":")[0]).lines
    assert lines == [base.short_id]


def test_images_no_trunc_prints_full_id(cli, base):
    lines = cli.ok("images", "--no-trunc", "-q", base.ref.split(":")[0]).lines
    assert lines == [base.id]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", lines[0])
    # inspect's {{.Id}} prints the same full form (base.id is read through it, normalised)
    printed = cli.ok("image", "inspect", "--format", "{{.Id}}", base.ref).stdout.strip()
    assert printed == base.id


def test_tag_without_tag_means_latest(cli, base, names):
    repo = names("notag")
    cli.ok("tag", base.ref, repo)
    assert cli.ok("images", "--format", "{{.Tag}}", repo).lines == ["latest"]


def test_inspect_unknown_image_says_no_such_object(cli, names, messages):
    missing = names("missing")
    result = cli.fails("inspect", missing)
    expect_message(result.stderr, messages, "image.no_such_object", ref=missing)


def test_tag_with_uppercase_repository_is_refused(cli, base, names, messages):
    result = cli.fails("tag", base.ref, names("bad") + "UPPER:v1")
    expect_message(result.stderr, messages, "image.invalid_reference")
    assert cli.run("images", "-q", names("bad") + "UPPER").lines == []


@pytest.mark.parametrize("size, detail", [(3, "unexpected EOF"), (2000, "archive/tar: invalid tar header")],
                         ids=["shorter-than-a-header", "text"])
def test_load_of_a_file_that_is_no_tar_fails(cli, tmp_path, messages, size, detail):
    bogus = tmp_path / "not-a-tar"
    bogus.write_text(("x" * (size - 1)) + "\n")
    result = cli.fails("load", "-i", str(bogus))
    expect_message(result.stderr, messages, "image.load_not_a_tar", detail=detail)
