"""Bad input to the CLI (issue 16): refused with Docker's words and exit code — never a
traceback, never accepted and ignored — and nothing is left behind by a refusal."""
from __future__ import annotations

import pytest

from conformance.messages import expect_message

LONG = 10_000


def _no_container_named(cli, name: str) -> None:
    __tracebackhide__ = True
    assert cli.ok("ps", "-aq", "--filter", f"name=^{name}$").lines == []


@pytest.mark.parametrize("flags, key, values", [
    (["-e", "=x"], "bad_input.invalid_env", {"value": "=x"}),
    (["-l", ""], "bad_input.empty_label", {}),
    (["-w", "relative"], "bad_input.relative_workdir", {"path": "relative"}),
    (["-p", "-1:80"], "ports.invalid_host_port", {"port": "-1"}),
], ids=["env-without-name", "empty-label", "relative-workdir", "negative-host-port"])
def test_run_refuses_a_malformed_flag_with_125(cli, base, names, messages, flags, key, values):
    name = names("refused")
    result = cli.fails("run", "--rm", "--name", name, *flags, base.ref, "true")
    assert result.rc == 125, result
    expect_message(result.stderr, messages, key, **values)
    assert "Traceback" not in result.stderr
    _no_container_named(cli, name)


def test_build_refuses_an_uppercase_tag_with_125(cli, base, names, context, messages):
    tag = names("upper") + "UPPER"
    result = cli.fails("build", *cli.impl.build_flags, "-t", tag, str(context({"Dockerfile": f"FROM {base.ref}\n"})))
    assert result.rc == 125, result
    expect_message(result.stderr, messages, "bad_input.uppercase_tag", tag=tag)


def test_inspect_with_an_unclosed_action_is_a_template_parsing_error(cli, base, messages):
    result = cli.fails("inspect", "--format", "{{.Nope", base.ref)
    assert result.rc == 64, result
    expect_message(result.stderr, messages, "bad_input.template_unclosed")


def test_ps_with_an_unknown_field_fails_to_execute_the_template(cli, base, names, messages):
    name = names("listed")
    cli.ok("create", "--name", name, base.ref, "true")
    try:
        result = cli.fails("ps", "-a", "--filter", f"name=^{name}$", "--format", "{{.Nope}}")
        assert result.rc == 1, result
        expect_message(result.stderr, messages, "bad_input.template_unknown_field", field="Nope")
    finally:
        cli.ok("rm", name)


def test_a_container_name_of_ten_thousand_characters_works(cli, base, names):
    name = names("long") + "x" * (LONG - len(names("long")))
    cli.ok("create", "--name", name, base.ref, "true")
    try:
        assert cli.inspect(name, "{{.Name}}") == "/" + name
    finally:
        cli.ok("rm", name)
    _no_container_named(cli, name)


def test_run_rm_of_a_file_that_is_not_a_program_is_126_and_leaves_nothing(cli, base, names, messages):
    for attempt in range(3):
        name = names(f"noexec{attempt}")
        result = cli.fails("run", "--rm", "--name", name, base.ref, "/etc/passwd")
        assert result.rc == 126, result
        expect_message(result.stderr, messages, "bad_input.permission_denied", program="/etc/passwd")
        _no_container_named(cli, name)


def test_save_to_a_directory_that_does_not_exist(cli, base, tmp_path, messages):
    missing = tmp_path / "missing"
    result = cli.fails("save", "-o", str(missing / "x.tar"), base.ref)
    assert result.rc == 1, result
    expect_message(result.stderr, messages, "bad_input.save_no_directory", directory=str(missing))


def test_load_of_a_missing_file_and_of_something_that_is_not_a_tar(cli, tmp_path, messages):
    missing = tmp_path / "missing.tar"
    result = cli.fails("load", "-i", str(missing))
    assert result.rc == 1, result
    expect_message(result.stderr, messages, "bad_input.open_missing", path=str(missing))
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"not a tar archive, only some words" * 30)
    for argv in (["load", "-i", str(garbage)], ["import", str(garbage)]):
        result = cli.fails(*argv)
        assert result.rc == 1, result
        expect_message(result.stderr, messages, "bad_input.not_a_tar", reason="archive/tar: invalid tar header")
        assert "Traceback" not in result.stderr
