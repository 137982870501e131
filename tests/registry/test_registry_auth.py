"""htpasswd (bcrypt) basic auth: the challenge, the error body, and the client's login."""
import pytest

from conftest import PASSWORD, USER
from reference_impl.registry.client import AuthenticationError, RegistryClient

UNAUTHORIZED_BODY = (b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required",'
                     b'"detail":null}]}\n')


@pytest.mark.parametrize("auth", [None, (USER, "wrong"), ("nobody", PASSWORD), ("", "")])
def test_challenge_without_valid_credentials(auth_registry, auth):
    r = auth_registry.get("/v2/", auth=auth)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="strata-test-realm"'
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert r.content == UNAUTHORIZED_BODY


def test_repository_challenge_names_the_access(auth_registry):
    r = auth_registry.call("POST", "/v2/secret/blobs/uploads/")
    assert r.status_code == 401
    assert r.json()["errors"][0]["detail"] == [
        {"Type": "repository", "Class": "", "Name": "secret", "Action": "pull"},
        {"Type": "repository", "Class": "", "Name": "secret", "Action": "push"}]
    r = auth_registry.call("DELETE", "/v2/secret/manifests/v1")
    assert r.json()["errors"][0]["detail"][0]["Action"] == "delete"
    for path in ("/v2/_catalog", "/v2/secret/tags/list", "/v1/search?q=x"):
        assert auth_registry.get(path).status_code == 401
    r = auth_registry.call("HEAD", "/v2/secret/manifests/v1")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic ")


def test_valid_credentials(auth_registry):
    assert auth_registry.get("/v2/", auth=(USER, PASSWORD)).status_code == 200
    assert auth_registry.get("/v2/_catalog", auth=(USER, PASSWORD)).json() == {"repositories": []}
    assert auth_registry.get("/v1/_ping").status_code == 200        # docker search pings unauthenticated


def test_client_login_and_push_pull(auth_registry):
    assert RegistryClient(auth_registry.address).ping()
    with pytest.raises(AuthenticationError) as err:
        RegistryClient(auth_registry.address).login()
    assert err.value.code == "UNAUTHORIZED" and err.value.status == 401
    with pytest.raises(AuthenticationError):
        RegistryClient(auth_registry.address, auth=(USER, "nope")).login()
    client = RegistryClient(auth_registry.address, auth=(USER, PASSWORD))
    assert client.login() == "Login Succeeded"
    digest = client.upload_blob("private/app", b"secret layer", chunk_size=4)
    assert client.get_blob("private/app", digest) == b"secret layer"
    assert client.catalog() == ["private/app"]
    assert [r["name"] for r in client.search("app")] == ["private/app"]
    fresh = RegistryClient(auth_registry.address, auth=(USER, PASSWORD))   # first call answers the challenge
    assert fresh.blob_exists("private/app", digest) == len(b"secret layer")
