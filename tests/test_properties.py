"""Property tests (issue 16): no input makes strata answer with a traceback.

In-process, so that each runs 1 000 examples in seconds: image references, Dockerfiles
(parsed, and each instruction's arguments as the builder reads them), and the CLI's
arguments for verbs that only read or refuse on an empty store. An input may be refused —
with an EngineError, a usage error, an exit code — but never with any other exception;
and the CLI's safety net for unexpected errors must not be what answered.
"""
from __future__ import annotations

import contextlib
import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_impl import refs
from reference_impl.builder.parser import parse
from reference_impl.errors import EngineError

EXAMPLES = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))

# text that looks like what a user types: reference and flag characters, some of anything
_WORDY = st.lists(st.sampled_from(list("abcXYZ019:/@._-=+, \t{}.[]\"'\\$#*?!") + ["sha256:", "{{", "}}",
                                                                                      "{{.Nope", "\n"]),
                  max_size=30).map("".join)
WORDS = st.one_of(_WORDY, st.text(max_size=20), st.sampled_from(["", "-", "--", "=x", "-1:80", "a" * 300]))


@EXAMPLES
@given(WORDS)
def test_reference_parsing_refuses_in_engine_words_only(text):
    for parser in (refs.parse, refs.parse_tagged):
        try:
            parser(text)
        except EngineError:
            pass


KEYWORDS = ["FROM", "RUN", "CMD", "ENTRYPOINT", "ENV", "ARG", "LABEL", "EXPOSE", "WORKDIR", "USER",
            "VOLUME", "COPY", "ADD", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER", "NOPE"]
LINES = st.builds(lambda k, flag, args: f"{k} {flag}{args}", st.sampled_from(KEYWORDS),
                  st.sampled_from(["", "--from=x ", "--chown=1:2 ", "--bad ", "--=", "--platform="]), WORDS)
DOCKERFILES = st.lists(st.one_of(LINES, WORDS, st.sampled_from(["# escape=`", "# syntax=x", "\\", "`"])),
                       max_size=8).map("\n".join)


@EXAMPLES
@given(DOCKERFILES)
def test_dockerfile_parsing_refuses_in_engine_words_only(text):
    try:
        instructions = parse(text)
    except EngineError:
        return
    for instruction in instructions:
        instruction.json_array()


# --- the CLI ---------------------------------------------------------------------------------

SAFE_VERBS = {  # verbs that read, refuse, or make a container without starting it
    "images": ["-a", "-q", "--no-trunc", "--digests", "-f", "--filter", "--format"],
    "ps": ["-a", "-q", "--no-trunc", "-n", "-l", "-f", "--filter", "--format", "-s"],
    "inspect": ["-f", "--format", "--type", "-s"],
    "history": ["-q", "--no-trunc", "-H", "--format"],
    "tag": [],
    "rmi": ["-f", "--no-prune"],
    "rm": ["-f", "-v"],
    "stop": ["-t", "--time"],
    "port": [],
    "logs": ["-t", "--tail", "--since", "--until"],
    "create": ["-e", "--env", "-w", "-l", "--label", "-p", "--name", "-u", "--entrypoint", "-t", "-i",
               "--rm", "-P", "--expose"],
    "start": ["-a", "-i"],  # only of containers that do not exist: `box` is never named whole
}
IMAGE_AND_CONTAINER = st.sampled_from(["base", "base:latest", "box", "nope", "sha256:", "ba"])
ARGV = st.sampled_from(sorted(SAFE_VERBS)).flatmap(
    lambda verb: st.lists(st.one_of(st.sampled_from(SAFE_VERBS[verb] or ["-x"]), WORDS, IMAGE_AND_CONTAINER),
                          max_size=6)
    .map(lambda rest: [verb, *rest]))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store with the base image and a created container `box` (so that the verbs reach
    past "No such image"); cwd an empty directory, so a relative path names nothing."""
    from conformance.fixtures import write_busybox_rootfs
    from reference_impl.cli import main

    root = tmp_path_factory.mktemp("property-store")
    write_busybox_rootfs(root / "rootfs.tar")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["--root", str(root / "store"), "import", str(root / "rootfs.tar"), "base"]) == 0
        assert main(["--root", str(root / "store"), "create", "--name", "box", "base", "true"]) == 0
    previous = os.getcwd()
    os.chdir(root)
    yield root / "store"
    os.chdir(previous)


@EXAMPLES
@given(ARGV)
def test_cli_arguments_never_end_in_a_traceback(store, argv):
    from reference_impl.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["--root", str(store), *argv])
        except SystemExit as exit_:  # --help
            code = exit_.code or 0
    assert isinstance(code, int), (argv, code)
    assert "Traceback" not in out.getvalue() + err.getvalue(), argv
    assert "unexpected error" not in err.getvalue(), (argv, err.getvalue())


# --- Engine API bodies -----------------------------------------------------------------------

JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), WORDS),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(WORDS, inner, max_size=3),
                           max_leaves=8)
FIELDS = ["Image", "User", "Tty", "Env", "Cmd", "Entrypoint", "Labels", "ExposedPorts", "WorkingDir",
          "HostConfig", "StopSignal", "OpenStdin", "Volumes", "Healthcheck"]
HOST_FIELDS = ["PortBindings", "Memory", "AutoRemove", "CapAdd", "Privileged", "Binds", "RestartPolicy",
               "PublishAllPorts", "SecurityOpt", "Ulimits"]
PORT_BINDINGS = st.dictionaries(st.sampled_from(["80/tcp", "80", "x/udp", "65536/tcp"]),
                                st.lists(st.fixed_dictionaries({}, optional={"HostIp": JSON_VALUES,
                                                                             "HostPort": JSON_VALUES}), max_size=2),
                                max_size=2)
HOST_CONFIGS = st.dictionaries(st.sampled_from(HOST_FIELDS), JSON_VALUES, max_size=3).flatmap(
    lambda host: st.just(host) | PORT_BINDINGS.map(lambda ports: {**host, "PortBindings": ports}))
BODIES = st.one_of(
    JSON_VALUES,
    st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=5).flatmap(
        lambda body: st.fixed_dictionaries({"Image": st.sampled_from(["base", "nope", ""]),
                                            "HostConfig": HOST_CONFIGS}).map(lambda rest: {**body, **rest}))
    | st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=5))


@EXAMPLES
@given(BODIES)
def test_container_create_bodies_are_refused_in_api_words_never_a_500(store, body):
    """What POST /containers/create does with a body, in-process: validated against the
    API's types, then created (never started): refused only with a 4xx ApiError or an
    engine error the API maps to 4xx."""
    from reference_impl.api.common import ApiError, status_of
    from reference_impl.api.containers import create_options
    from reference_impl.api.validation import check
    from reference_impl.engine.containers import ContainerService
    from reference_impl.store import Store

    body = {} if body is None else body  # (an empty request body)
    try:
        check("container_create", body)
        ContainerService(Store(store)).create(create_options(body))
    except (ApiError, EngineError) as exc:
        assert status_of(exc) < 500, (body, status_of(exc), exc)
