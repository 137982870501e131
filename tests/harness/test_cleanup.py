"""The suite's per-check cleanup (conformance/fixtures.py: remove_check_objects) and the
leak check's attribution, against real engines.

A listing the engine could not make is not an empty one: podman 4.3 fails `images` with
"checking if image … is dangling: … image not known" when a concurrent removal takes an
image from under it, and a cleanup that read that as "nothing left" leaked a check's base
(issue 22). Here a wrapper around the real docker CLI refuses the first listings the same way.
"""
import os
import stat
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from stress_cleanup import stress

from conformance import impls, leaks
from conformance.cli import Cli, Transcript
from conformance.locks import NoLock
from conformance.fixtures import host_for, import_base, remove_check_objects, write_busybox_rootfs
from conformance.naming import Names, run_tag

FLAKY_LISTER = """#!/bin/sh
# the real docker CLI, except that the first {n} `images` listings fail as podman's do
if [ "$1" = images ]; then
  count=$(cat {counter} 2>/dev/null || echo 0)
  echo $((count + 1)) > {counter}
  if [ "$count" -lt {n} ]; then
    echo 'Error: checking if image "x" is dangling: locating image with ID "x": image not known' >&2
    exit 125
  fi
fi
exec docker "$@"
"""


@pytest.fixture
def docker_impl():
    impl = impls.load("docker")
    reason = impl.missing_reason()
    if reason:
        pytest.fail(f"docker is needed: {reason}")
    return impl


@pytest.fixture
def rootfs(tmp_path):
    path = tmp_path / "rootfs.tar"
    write_busybox_rootfs(path)
    return path


def flaky_docker(impl, tmp_path, failures: int):
    script = tmp_path / "flaky-docker"
    script.write_text(FLAKY_LISTER.format(n=failures, counter=tmp_path / "listings"))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return replace(impl, name="flaky-docker", argv=(str(script),))


def test_a_failed_listing_is_not_read_as_nothing_left(docker_impl, tmp_path, rootfs):
    names = Names(run_tag(uuid.uuid4().hex), "gw0")
    docker = Cli(docker_impl, host_for(docker_impl), Transcript())
    base = import_base(docker, rootfs, names)
    try:
        flaky = Cli(flaky_docker(docker_impl, tmp_path, failures=2), host_for(docker_impl), Transcript())
        remove_check_objects(flaky, names.prefix, lock=NoLock(), known_images=[base.id])
        assert int((tmp_path / "listings").read_text()) > 2, "the wrapper's failing listings were never made"
        assert not docker.exists("image", base.id), "the cleanup stopped at a failed listing and left the base"
    finally:
        docker.run("rmi", "-f", base.id)


def test_leaks_name_the_check_that_made_them(docker_impl, rootfs):
    run = run_tag(uuid.uuid4().hex)
    names = Names(run, "gw3")
    docker = Cli(docker_impl, host_for(docker_impl), Transcript())
    base = import_base(docker, rootfs, names)
    try:
        docker.ok("tag", base.ref, f"{names('other')}:v1")
        found = leaks.engine_leaks(docker, run, "docker")
    finally:
        docker.run("rmi", "-f", base.id)
    assert {leak.kind for leak in found} == {"image"}, found
    assert len(found) == 2, found
    assert {leak.prefix for leak in found} == {names.prefix}, found
    assert any(base.ref in leak.text() and f"made by {names.prefix}" in leak.text() for leak in found), found


def test_podman_cleanup_under_parallel_load_leaves_nothing():
    """A small run of tests/harness/stress_cleanup.py (200 cycles by hand, see its doc)."""
    cycles = int(os.environ.get("STRATA_STRESS_CYCLES", "32"))
    result = stress("podman", cycles=cycles, workers=4)
    assert not result.cleanup_errors, result.cleanup_errors
    assert not result.leftovers, result.leftovers


def test_a_lapsed_api_service_answers_again_before_the_next_check():
    """strata-api's run service exits after 10 idle minutes; a run whose other checks (or a
    VM's bring-up) take longer found it gone: every strata-api check errored (issue 22)."""
    from conformance import api_service
    record = impls.load("strata-api").prepare(run_tag(uuid.uuid4().hex))
    directory = Path(record.env["DOCKER_HOST"].removeprefix("unix://")).parent
    try:
        assert record.missing_reason() is None
        api_service.stop(directory)  # as if it had gone idle
        assert record.missing_reason() is not None
        record.ready()
        assert record.missing_reason() is None
    finally:
        record.finish()
    assert not directory.exists()
