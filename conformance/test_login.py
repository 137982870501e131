"""login / logout and pushing to a registry that wants basic auth (seed §6 login, §7).

The registry is Debian's docker-registry or strata's with an htpasswd (bcrypt) file, or strata's
with token auth (Bearer challenges, its token service checking that file), on
127.0.0.1, one per worker. Each check has a client config directory of its own
(``cli.env[cli.impl.config_dir_env]``), so logins never leak between checks.
"""
import base64
import json

import requests

from conformance.messages import expect_message

DOCKERFILE = "FROM {base}\nRUN echo 'Hi, I am in your container' > /www/index.html\n"


def credentials_file(cli):
    """The client's credentials file, as a testinfra File on the implementation's host."""
    return cli.host.file(f"{cli.env[cli.impl.config_dir_env]}/{cli.impl.credentials_file}")


def stored_auths(cli) -> dict:
    found = credentials_file(cli)
    return json.loads(found.content_string).get("auths", {}) if found.exists else {}


def login(cli, registry, password: str):
    user = registry.auth[0]
    return cli.run("login", "-u", user, "--password-stdin", registry.address, input=password)


def logged_in(cli, registry) -> None:
    __tracebackhide__ = True
    result = login(cli, registry, registry.auth[1])
    assert result.rc == 0, result.describe()


def tags_of(registry, repo: str) -> requests.Response:
    assert registry.address.startswith("127."), registry.address
    return requests.get(registry.url(f"/v2/{repo}/tags/list"), auth=registry.http_auth, timeout=10)


def build_for(cli, base, context, ref: str) -> str:
    return cli.build_ok(context({"Dockerfile": DOCKERFILE.format(base=base.ref)}), tag=ref)


def test_login_with_a_wrong_password_is_refused_and_stores_nothing(cli, auth_registry, messages):
    result = login(cli, auth_registry, "not-" + auth_registry.auth[1])
    assert result.rc == 1, result.describe()
    assert auth_registry.address not in stored_auths(cli)
    expect_message(result.stderr, messages, auth_registry.message_key("login_unauthorized"),
                   address=auth_registry.address)


def test_login_stores_base64_credentials_in_the_client_config(cli, auth_registry, messages):
    result = login(cli, auth_registry, auth_registry.auth[1])
    assert result.rc == 0, result.describe()
    stored = credentials_file(cli)
    assert stored.is_file
    assert stored.mode == 0o600
    user, password = auth_registry.auth
    assert json.loads(stored.content_string) == {
        "auths": {auth_registry.address: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}}
    expect_message(result.stdout, messages, "registry.login_succeeded")
    expect_message(result.stderr, messages, "registry.login_stored_unencrypted", path=stored.path)


def test_push_without_login_says_no_basic_auth_credentials(cli, base, context, auth_registry, names, messages):
    repo = names("web")
    ref = f"{auth_registry.address}/{repo}:v1"
    build_for(cli, base, context, ref)
    result = cli.run("push", ref)
    assert result.rc == 1, result.describe()
    assert tags_of(auth_registry, repo).status_code == 404
    expect_message(result.output, messages, auth_registry.message_key("no_credentials"))


def test_push_after_login_reaches_the_registry(cli, base, context, auth_registry, names):
    repo = names("web")
    ref = f"{auth_registry.address}/{repo}:v1"
    image = build_for(cli, base, context, ref)
    logged_in(cli, auth_registry)
    cli.ok("push", ref)
    tags = tags_of(auth_registry, repo)
    assert tags.status_code == 200, tags.text
    assert tags.json()["tags"] == ["v1"]
    assert cli.image_id(ref) == image


def test_pull_after_login_brings_back_the_pushed_image(cli, base, context, auth_registry, names, messages):
    repo = names("web")
    ref = f"{auth_registry.address}/{repo}:v1"
    image = build_for(cli, base, context, ref)
    logged_in(cli, auth_registry)
    cli.ok("push", ref)
    cli.ok("rmi", ref)
    assert not cli.exists("image", image)
    cli.ok("pull", ref)  # (pull's own words: test_registry.py)
    assert cli.image_id(ref) == image


def test_logout_removes_the_stored_credentials(cli, auth_registry, messages):
    logged_in(cli, auth_registry)
    assert auth_registry.address in stored_auths(cli)
    result = cli.ok("logout", auth_registry.address)
    assert auth_registry.address not in stored_auths(cli)
    expect_message(result.stdout, messages, "registry.logout", address=auth_registry.address)


def test_pull_after_logout_is_refused(cli, base, context, auth_registry, names, messages):
    repo = names("web")
    ref = f"{auth_registry.address}/{repo}:v1"
    image = build_for(cli, base, context, ref)
    logged_in(cli, auth_registry)
    cli.ok("push", ref)
    cli.ok("rmi", ref)
    cli.ok("logout", auth_registry.address)
    result = cli.run("pull", ref)
    assert result.rc == 1, result.describe()
    assert not cli.exists("image", image)
    expect_message(result.stderr, messages, auth_registry.message_key("pull_no_credentials"),
                   address=auth_registry.address, repo=repo, tag="v1")
