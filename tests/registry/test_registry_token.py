"""Token auth (`serve --auth token`): the token service at /token, the registry's
exact Bearer challenges, scope checks per request, and every kind of bad token
refused. Tokens are fetched over HTTP as Docker fetches them; the forged ones are
signed here, with the registry's own key where the point is another defect."""
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import PASSWORD, USER, start_strata, write_htpasswd
from reference_impl.registry.client import AuthenticationError, RegistryClient
from registry_helpers import expect_error, push_image, sha

SERVICE, ISSUER = "strata-registry", "strata-token-service"


def realm(server) -> str:
    return f"http://{server.address}/token"


def challenge(server, scope: str | None = None, error: str | None = None) -> str:
    value = f'Bearer realm="{realm(server)}",service="{SERVICE}"'
    if scope:
        value += f',scope="{scope}"'
    if error:
        value += f',error="{error}"'
    return value


def fetch_token(server, *scopes: str, auth=(USER, PASSWORD), service: str = SERVICE):
    params = [("service", service)] + [("scope", s) for s in scopes]
    return server.get("/token", params=params, auth=auth)


def token_for(server, *scopes: str, **kw) -> str:
    r = fetch_token(server, *scopes, **kw)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def signing_key(server):
    with open(os.path.join(server.root, "token", "signing-key.pem"), "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def forged(key, algorithm="RS256", **changes) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": USER, "aud": SERVICE, "exp": now + 300, "nbf": now, "iat": now,
              "jti": "forged", "access": [{"type": "repository", "name": "app", "actions": ["pull"]}]}
    claims.update(changes)
    return jwt.encode(claims, key, algorithm=algorithm)


def test_challenges_name_realm_service_and_scope(token_registry):
    r = token_registry.get("/v2/")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == challenge(token_registry)
    assert r.json() == {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required",
                                    "detail": None}]}
    cases = [("GET", "/v2/app/manifests/v1", "repository:app:pull"),
             ("HEAD", "/v2/app/blobs/" + sha(b"x"), "repository:app:pull"),
             ("GET", "/v2/app/tags/list", "repository:app:pull"),
             ("GET", "/v2/app/referrers/" + sha(b"x"), "repository:app:pull"),
             ("POST", "/v2/app/blobs/uploads/", "repository:app:pull,push"),
             ("PUT", "/v2/app/manifests/v1", "repository:app:pull,push"),
             ("DELETE", "/v2/app/manifests/" + sha(b"x"), "repository:app:delete"),
             ("GET", "/v2/_catalog", "registry:catalog:*")]
    for method, path, scope in cases:
        r = token_registry.call(method, path)
        assert r.status_code == 401, (method, path)
        assert r.headers["WWW-Authenticate"] == challenge(token_registry, scope), (method, path)
    r = token_registry.call("POST", "/v2/app/blobs/uploads/", params={"mount": sha(b"x"), "from": "base"})
    assert r.headers["WWW-Authenticate"] == challenge(token_registry, "repository:app:pull,push "
                                                                      "repository:base:pull")
    r = token_registry.get("/v2/app/tags/list", auth=(USER, PASSWORD))   # basic is not enough
    assert r.headers["WWW-Authenticate"] == challenge(token_registry, "repository:app:pull")


def test_token_response_and_claims(token_registry):
    r = fetch_token(token_registry, "repository:app:pull,push", "repository:other:pull,nonsense",
                    "registry:catalog:*", "repository:Bad Name:pull")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"token", "access_token", "expires_in", "issued_at"}
    assert body["token"] == body["access_token"] and body["expires_in"] == 300
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["issued_at"])
    header = jwt.get_unverified_header(body["token"])
    assert header["alg"] == "RS256" and re.fullmatch(r"([A-Z2-7]{4}:){11}[A-Z2-7]{4}", header["kid"])
    claims = jwt.decode(body["token"], signing_key(token_registry).public_key(), algorithms=["RS256"],
                        audience=SERVICE)
    assert claims["iss"] == ISSUER and claims["sub"] == USER
    assert claims["exp"] - claims["iat"] == 300
    assert claims["access"] == [{"type": "repository", "name": "app", "actions": ["pull", "push"]},
                                {"type": "repository", "name": "other", "actions": ["pull"]},
                                {"type": "registry", "name": "catalog", "actions": ["*"]}]


def test_token_service_refuses_wrong_credentials_and_services(token_registry):
    for auth in ((USER, "wrong"), ("nobody", PASSWORD)):
        r = fetch_token(token_registry, "repository:app:pull", auth=auth)
        expect_error(r, 401, "UNAUTHORIZED")
        assert r.json()["errors"][0]["message"] == "incorrect username or password"
        assert r.headers["WWW-Authenticate"] == 'Basic realm="strata-test-realm"'
    r = token_registry.get("/token", params={"service": SERVICE, "account": "someone-else"},
                           auth=(USER, PASSWORD))
    expect_error(r, 401, "UNAUTHORIZED")
    expect_error(fetch_token(token_registry, "repository:app:pull", service="another-registry"),
                 400, "DENIED")
    expect_error(token_registry.call("POST", "/token"), 405, "UNSUPPORTED")


def test_anonymous_token_grants_nothing(token_registry):
    anonymous = token_for(token_registry, "repository:app:pull", "registry:catalog:*", auth=None)
    assert jwt.decode(anonymous, options={"verify_signature": False})["access"] == []
    assert token_registry.get("/v2/", headers=bearer(anonymous)).status_code == 200
    r = token_registry.get("/v2/app/tags/list", headers=bearer(anonymous))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == challenge(token_registry, "repository:app:pull",
                                                      "insufficient_scope")
    assert r.json()["errors"][0]["detail"] == [
        {"Type": "repository", "Class": "", "Name": "app", "Action": "pull"}]


def test_scope_is_checked_per_request(token_registry):
    client = RegistryClient(token_registry.address, auth=(USER, PASSWORD))
    digest, config, layer = push_image(client, "app", "v1", {"etc/secret": b"only with pull on app\n"})
    pull_other = token_for(token_registry, "repository:other:pull,push,delete", "registry:catalog:*")
    pull_app = token_for(token_registry, "repository:app:pull")
    for path in ("/v2/app/manifests/v1", f"/v2/app/blobs/{sha(layer)}", "/v2/app/tags/list",
                 f"/v2/app/referrers/{digest}"):
        r = token_registry.get(path, headers=bearer(pull_other))
        assert r.status_code == 401, path
        assert r.headers["WWW-Authenticate"] == challenge(token_registry, "repository:app:pull",
                                                          "insufficient_scope")
        assert token_registry.get(path, headers=bearer(pull_app)).status_code == 200, path
    r = token_registry.call("POST", "/v2/app/blobs/uploads/", headers=bearer(pull_app))
    assert r.headers["WWW-Authenticate"] == challenge(token_registry, "repository:app:pull,push",
                                                      "insufficient_scope")
    r = token_registry.call("DELETE", f"/v2/app/manifests/{digest}", headers=bearer(pull_app))
    assert r.status_code == 401
    # a mount needs pull on its source as well
    r = token_registry.call("POST", "/v2/other/blobs/uploads/", headers=bearer(pull_other),
                            params={"mount": sha(layer), "from": "app"})
    assert r.status_code == 401 and "repository:app:pull" in r.headers["WWW-Authenticate"]
    both = token_for(token_registry, "repository:other:pull,push", "repository:app:pull")
    r = token_registry.call("POST", "/v2/other/blobs/uploads/", headers=bearer(both),
                            params={"mount": sha(layer), "from": "app"})
    assert r.status_code == 201, r.text
    assert token_registry.get("/v2/_catalog", headers=bearer(pull_app)).status_code == 401
    assert token_registry.get("/v2/_catalog", headers=bearer(pull_other)).json() == {
        "repositories": ["app", "other"]}


@pytest.mark.parametrize("defect", ["expired", "not yet valid", "other service", "other issuer",
                                    "other key", "alg none", "hmac with the public key",
                                    "no expiry", "tampered", "garbage"])
def test_bad_tokens_are_invalid(token_registry, defect):
    key = signing_key(token_registry)
    now = int(time.time())
    if defect == "expired":
        token = forged(key, exp=now - 60, iat=now - 400, nbf=now - 400)
    elif defect == "not yet valid":
        token = forged(key, nbf=now + 600, exp=now + 900)
    elif defect == "other service":
        token = forged(key, aud="another-registry")
    elif defect == "other issuer":
        token = forged(key, iss="someone-else")
    elif defect == "other key":
        token = forged(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    elif defect == "alg none":
        token = forged(None, algorithm="none")
    elif defect == "hmac with the public key":
        pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        head = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).rstrip(b"=")
        payload = jwt.decode(forged(key), options={"verify_signature": False})
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=")
        sig = base64.urlsafe_b64encode(hmac.new(pem, head + b"." + body, hashlib.sha256).digest()).rstrip(b"=")
        token = (head + b"." + body + b"." + sig).decode()
    elif defect == "no expiry":
        claims = jwt.decode(forged(key), options={"verify_signature": False})
        del claims["exp"]
        token = jwt.encode(claims, key, algorithm="RS256")
    elif defect == "tampered":
        head, body, sig = forged(key).split(".")
        claims = json.loads(base64.urlsafe_b64decode(body + "=="))
        claims["access"][0]["actions"] = ["pull", "push"]
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        token = f"{head}.{body}.{sig}"
    else:
        token = "not-a-jwt"
    good = forged(key)
    assert token_registry.get("/v2/app/tags/list", headers=bearer(good)).status_code == 404  # NAME_UNKNOWN
    r = token_registry.get("/v2/app/tags/list", headers=bearer(token))
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"] == challenge(token_registry, "repository:app:pull", "invalid_token")
    assert r.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_key_is_made_once_and_survives_a_restart(tmp_path):
    htpasswd = write_htpasswd(str(tmp_path / "htpasswd"))
    root = str(tmp_path / "root")
    first = start_strata(root, str(tmp_path), htpasswd=htpasswd, auth="token")
    try:
        token = token_for(first, "repository:app:pull")
        key_file = os.path.join(root, "token", "signing-key.pem")
        assert os.stat(key_file).st_mode & 0o777 == 0o600
        pem = open(key_file, "rb").read()
    finally:
        first.stop()
    second = start_strata(root, str(tmp_path), htpasswd=htpasswd, auth="token")
    try:
        assert open(key_file, "rb").read() == pem
        r = second.get("/v2/app/tags/list", headers=bearer(token))
        assert r.status_code == 404 and r.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    finally:
        second.stop()


def test_strata_client_through_tokens(token_registry, tmp_path):
    anonymous = RegistryClient(token_registry.address)
    with pytest.raises(AuthenticationError):
        anonymous.upload_blob("app", b"no push without a token for it")
    with pytest.raises(AuthenticationError) as err:
        RegistryClient(token_registry.address, auth=(USER, "wrong")).login()
    assert err.value.message == "incorrect username or password"
    client = RegistryClient(token_registry.address, auth=(USER, PASSWORD))
    assert client.login() == "Login Succeeded"
    digest, config, layer = push_image(client, "team/app", "v1", {"bin/app": b"\x7fELF app\n"},
                                       chunk_size=7)
    fresh = RegistryClient(token_registry.address, auth=(USER, PASSWORD))
    data, _, got = fresh.get_manifest("team/app", "v1")
    assert got == digest
    assert fresh.download_blob("team/app", json.loads(data)["layers"][0]["digest"],
                               str(tmp_path / "layer")) == len(layer)
    assert fresh.tags("team/app") == ["v1"] and fresh.catalog() == ["team/app"]
    assert fresh.mount_blob("team/copy", sha(layer), "team/app")
    with pytest.raises(AuthenticationError):
        anonymous.get_manifest("team/app", "v1")


def test_auth_options_are_checked(tmp_path):
    base = [sys.executable, "-m", "reference_impl.registry", "serve", "--root", str(tmp_path / "r"),
            "--addr", "127.0.0.1:0"]
    for extra, words in ((["--auth", "token"], "--auth token needs --htpasswd"),
                         (["--auth", "basic"], "--auth basic needs --htpasswd"),
                         (["--auth", "none", "--htpasswd", "x"], "--htpasswd with --auth none"),
                         (["--auth", "token", "--htpasswd", "x", "--token-ttl", "0"],
                          "--token-ttl must be positive")):
        proc = subprocess.run(base + extra, capture_output=True, text=True, timeout=60,
                              cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
        assert proc.returncode == 2 and words in proc.stderr, (extra, proc.stderr)


def test_strata_client_deletes_with_a_delete_scope(token_registry):
    client = RegistryClient(token_registry.address, auth=(USER, PASSWORD))
    digest, _, layer = push_image(client, "app", "v1", {"a": b"to delete\n"})
    client.delete_manifest("app", digest)
    client.delete_blob("app", sha(layer))
    assert client.manifest_digest("app", digest) is None
    assert client.blob_exists("app", sha(layer)) is None
