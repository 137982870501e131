"""A Registry HTTP API v2 client (requests): what the engine's pull, push,
search and login verbs call. One method per API call; it returns plain values
and raises RegistryAPIError (with the spec's error code) on failure.

Auth: credentials are sent only after the registry asks for them. A `Basic`
challenge is answered with the user and password; a `Bearer` challenge by
fetching a token from its realm (with the credentials, if any) for the scope,
as Docker does.
"""
import ipaddress
import json
import os
import re
from urllib.parse import urljoin, urlsplit

import requests

from reference_impl.errors import EngineError
from reference_impl.store.digest import Digest

from . import manifests

DEFAULT_ACCEPT = ", ".join([manifests.DOCKER_MANIFEST, manifests.DOCKER_LIST,
                            manifests.OCI_MANIFEST, manifests.OCI_INDEX])
CHUNK = 8 * 1024 * 1024
TIMEOUT = 60


class RegistryAPIError(Exception):
    """A failed registry call: HTTP status plus the first spec error, if any."""

    def __init__(self, status: int, method: str, url: str, errors: list | None = None,
                 text: str = ""):
        self.status, self.method, self.url = status, method, url
        self.errors = errors or []
        first = self.errors[0] if self.errors else {}
        self.code = first.get("code")
        self.message = first.get("message") or text.strip() or f"status {status}"
        self.detail = first.get("detail")
        super().__init__(f"{method} {url}: {status} {self.code or ''} {self.message}".replace("  ", " "))


class AuthenticationError(RegistryAPIError):
    """401: no or wrong credentials. `scheme` is the registry's challenge ("basic",
    "bearer"), `token_service` True when the token service refused the credentials."""
    scheme: str | None = None
    token_service: bool = False

    @property
    def reason(self) -> str:
        """As Docker words it: `no basic auth credentials` for a basic challenge, else the
        error as distribution's client reads it (`denied: requested access ...`)."""
        if self.scheme == "basic" and not self.token_service:
            return "no basic auth credentials"
        return f"{(self.code or 'UNAUTHORIZED').lower()}: {self.message}"


class NotFoundError(RegistryAPIError):
    """404: unknown name, blob, manifest or upload."""


def _raise_for(resp: requests.Response) -> None:
    if resp.status_code < 400:
        return
    errors = []
    try:
        errors = resp.json().get("errors") or []
    except (ValueError, AttributeError):
        pass
    cls = {401: AuthenticationError, 404: NotFoundError}.get(resp.status_code, RegistryAPIError)
    text = "" if resp.request.method == "HEAD" else resp.text[:500]
    challenge = resp.headers.get("WWW-Authenticate")
    scheme, params = parse_challenge(challenge) if challenge else (None, {})
    if cls is AuthenticationError and scheme == "bearer" and params.get("error") in _OAUTH_ERRORS:
        # RFC 6750's error in the challenge says more than the body (as distribution reads it)
        code = _OAUTH_ERRORS[params["error"]]
        errors = [{"code": code[0], "message": params.get("error_description") or code[1]}]
    err = cls(resp.status_code, resp.request.method, resp.url, errors, text)
    if isinstance(err, AuthenticationError):
        err.scheme = scheme
    raise err


_OAUTH_ERRORS = {"invalid_token": ("UNAUTHORIZED", "authentication required"),
                 "insufficient_scope": ("DENIED", "requested access to the resource is denied")}


def parse_challenge(header: str) -> tuple[str, dict]:
    """('basic'|'bearer', params) from a WWW-Authenticate header."""
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


def _scope(path: str, method: str, params=None) -> str | None:
    m = re.match(r"/v2/(.+?)/(?:manifests|blobs|tags|referrers)/", path)
    if not m:
        return "registry:catalog:*" if path.startswith("/v2/_catalog") else None
    if method in ("GET", "HEAD"):
        actions = "pull"
    elif method == "DELETE" and "/blobs/uploads/" not in path:
        actions = "delete"
    else:
        actions = "pull,push"
    scope = f"repository:{m[1]}:{actions}"
    source = (params or {}).get("from") if isinstance(params, dict) else None
    if source and (params or {}).get("mount"):
        scope += f" repository:{source}:pull"    # a mount reads its source
    return scope


def _default_scheme(host: str) -> str:
    hostname = urlsplit(f"//{host}").hostname or ""
    if hostname == "localhost":
        return "http"
    try:
        return "http" if ipaddress.ip_address(hostname).is_loopback else "https"
    except ValueError:
        return "https"


class Unreachable(EngineError):
    """The registry did not answer over HTTP at all: said as Docker says it,
    `Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused`."""

    def __init__(self, method: str, url: str, exc: Exception):
        self.reason = _transport_reason(urlsplit(url).netloc, exc)
        super().__init__(f'{method.capitalize()} "{url}": {self.reason}')


def _transport_reason(netloc: str, exc: Exception) -> str:
    if isinstance(exc, requests.Timeout):
        return "net/http: request canceled (Client.Timeout exceeded while awaiting headers)"
    text = repr(exc)  # requests wraps urllib3's error, which wraps the socket's
    if "ConnectionRefusedError" in text or "Connection refused" in text:
        return f"dial tcp {netloc}: connect: connection refused"
    if "ConnectionResetError" in text or "Connection reset" in text:
        return "read: connection reset by peer"
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "EOF"
    return str(exc)


class _Session(requests.Session):
    """A transport failure (refused, reset, timed out) is the engine's error, not a traceback."""

    def request(self, method, url, *args, **kwargs):
        try:
            return super().request(method, url, *args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Unreachable(method, url, exc) from None


class RegistryClient:
    def __init__(self, address: str, auth: tuple[str, str] | None = None, *,
                 scheme: str | None = None, timeout: float = TIMEOUT):
        if "://" in address:
            parts = urlsplit(address)
            scheme, address = parts.scheme, parts.netloc
        self.address = address
        self.base = f"{scheme or _default_scheme(address)}://{address}"
        self.auth = auth
        self.timeout = timeout
        self.session = _Session()
        self._authorization: dict[str | None, str] = {}   # scope -> Authorization header

    # -- plumbing -----------------------------------------------------------------
    def _url(self, path_or_url: str) -> str:
        return urljoin(self.base + "/", path_or_url)

    def _authorize(self, challenge: str, scope: str | None) -> bool:
        scheme, params = parse_challenge(challenge)
        if scheme == "basic":
            if not self.auth:
                return False
            self._authorization[None] = requests.auth._basic_auth_str(*self.auth)
            return True
        if scheme == "bearer" and params.get("realm"):
            query = {k: v for k, v in (("service", params.get("service")),
                                       ("scope", scope or params.get("scope"))) if v}
            resp = self.session.get(params["realm"], params=query, auth=self.auth,
                                    timeout=self.timeout)
            try:
                _raise_for(resp)
            except AuthenticationError as err:
                err.token_service = True
                raise
            body = resp.json()
            token = body.get("token") or body.get("access_token")
            if not token:
                return False
            self._authorization[scope] = f"Bearer {token}"
            return True
        return False

    def request(self, method: str, path: str, *, expect=(200,), **kwargs) -> requests.Response:
        """One call; answers one 401 challenge, then raises unless status is expected."""
        url = self._url(path)
        scope = _scope(urlsplit(url).path, method, kwargs.get("params"))
        headers = dict(kwargs.pop("headers", {}) or {})
        kwargs.setdefault("timeout", self.timeout)
        data = kwargs.get("data")
        position = data.tell() if hasattr(data, "tell") else None
        for attempt in (0, 1):
            auth = self._authorization.get(scope) or self._authorization.get(None)
            if auth:
                headers["Authorization"] = auth
            if attempt and position is not None:
                data.seek(position)
            resp = self.session.request(method, url, headers=headers, **kwargs)
            challenge = resp.headers.get("WWW-Authenticate")
            if resp.status_code == 401 and attempt == 0 and challenge \
                    and self._authorize(challenge, scope):
                resp.close()
                continue
            break
        if resp.status_code not in expect:
            _raise_for(resp)
            raise RegistryAPIError(resp.status_code, method, url, text=resp.text[:500])
        return resp

    # -- base ---------------------------------------------------------------------
    def ping(self) -> bool:
        """True when the registry speaks API v2 (a 401 counts: it does, but wants credentials)."""
        resp = self.session.get(self._url("/v2/"), timeout=self.timeout)
        return resp.status_code in (200, 401) and \
            resp.headers.get("Docker-Distribution-Api-Version", "").startswith("registry/2")

    def login(self) -> str:
        """Check the credentials against /v2/; 'Login Succeeded' or AuthenticationError."""
        self.request("GET", "/v2/")
        return "Login Succeeded"

    # -- blobs ----------------------------------------------------------------------
    def blob_exists(self, name: str, digest: str) -> int | None:
        """The blob's size, or None when the repository does not have it."""
        resp = self.request("HEAD", f"/v2/{name}/blobs/{digest}", expect=(200, 404))
        return int(resp.headers.get("Content-Length", 0)) if resp.status_code == 200 else None

    def get_blob(self, name: str, digest: str, byte_range: tuple[int, int] | None = None) -> bytes:
        headers = {"Range": f"bytes={byte_range[0]}-{byte_range[1]}"} if byte_range else {}
        resp = self.request("GET", f"/v2/{name}/blobs/{digest}", headers=headers,
                            expect=(200, 206))
        data = resp.content
        if not byte_range:
            _verify(data, digest)
        return data

    def download_blob(self, name: str, digest: str, path: str) -> int:
        """Stream a blob into `path` (atomically, verified); return its size."""
        hasher, size, tmp = Digest(digest).hasher(), 0, f"{path}.part"
        with self.request("GET", f"/v2/{name}/blobs/{digest}", stream=True) as resp, \
                open(tmp, "wb") as f:
            for block in resp.iter_content(CHUNK):
                hasher.update(block)
                f.write(block)
                size += len(block)
        if hasher.digest() != digest:
            os.unlink(tmp)
            raise ValueError(f"downloaded blob does not match {digest}")
        os.replace(tmp, path)
        return size

    def delete_blob(self, name: str, digest: str) -> None:
        self.request("DELETE", f"/v2/{name}/blobs/{digest}", expect=(202,))

    def mount_blob(self, name: str, digest: str, source: str) -> bool:
        """Cross-repository mount; True when mounted (else the started upload is cancelled)."""
        resp = self.request("POST", f"/v2/{name}/blobs/uploads/",
                            params={"mount": digest, "from": source}, expect=(201, 202))
        if resp.status_code == 202:
            self.request("DELETE", resp.headers["Location"], expect=(204,))
            return False
        return True

    def upload_blob(self, name: str, data, digest: str | None = None, *,
                    chunk_size: int | None = None, single_post: bool = False) -> str:
        """Upload bytes or a path. chunk_size None: POST then one PUT (or one POST with
        ?digest= when single_post); else POST, PATCH per chunk, PUT. Returns the digest."""
        if isinstance(data, (str, os.PathLike)):
            return self._upload_file(name, os.fspath(data), digest, chunk_size)
        digest = digest or Digest.of(data)
        octet = {"Content-Type": "application/octet-stream"}
        if single_post:
            resp = self.request("POST", f"/v2/{name}/blobs/uploads/", params={"digest": digest},
                                data=data, headers=octet, expect=(201, 202))
            if resp.status_code == 201:
                return digest
            location = resp.headers["Location"]          # registry ignored the body
        else:
            location = self._start(name)
        if chunk_size:
            for start in range(0, len(data), chunk_size):
                location = self._patch(location, data[start:start + chunk_size], start)
            data = b""
        self._finish(location, digest, data)
        return digest

    def _upload_file(self, name: str, path: str, digest: str | None, chunk_size: int | None) -> str:
        if digest is None:
            digest = Digest.of_file(path)
        location = self._start(name)
        with open(path, "rb") as f:
            if chunk_size:
                start = 0
                for block in iter(lambda: f.read(chunk_size), b""):
                    location = self._patch(location, block, start)
                    start += len(block)
                self._finish(location, digest, b"")
            else:
                self._finish(location, digest, f)
        return digest

    def _start(self, name: str) -> str:
        return self.request("POST", f"/v2/{name}/blobs/uploads/",
                            expect=(202,)).headers["Location"]

    def _patch(self, location: str, chunk: bytes, start: int) -> str:
        resp = self.request("PATCH", location, data=chunk, expect=(202,), headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{start}-{start + len(chunk) - 1}"})
        return resp.headers["Location"]

    def _finish(self, location: str, digest: str, body) -> None:
        self.request("PUT", location, params={"digest": digest}, data=body,
                     headers={"Content-Type": "application/octet-stream"}, expect=(201,))

    def upload_status(self, location: str) -> int:
        """Bytes received so far by an upload (from its Range header)."""
        resp = self.request("GET", location, expect=(204,))
        end = int(resp.headers.get("Range", "0-0").split("-")[1])
        return end + 1 if end else 0

    # -- manifests --------------------------------------------------------------------
    def get_manifest(self, name: str, reference: str, accept: str = DEFAULT_ACCEPT):
        """(bytes, media type, digest) of a manifest by tag or digest."""
        resp = self.request("GET", f"/v2/{name}/manifests/{reference}", headers={"Accept": accept})
        data = resp.content
        digest = resp.headers.get("Docker-Content-Digest") or Digest.of(data)
        if Digest.valid(reference):
            _verify(data, reference)
        return data, resp.headers.get("Content-Type", "").split(";")[0], digest

    def manifest_digest(self, name: str, reference: str, accept: str = DEFAULT_ACCEPT) -> str | None:
        resp = self.request("HEAD", f"/v2/{name}/manifests/{reference}", headers={"Accept": accept},
                            expect=(200, 404))
        return resp.headers.get("Docker-Content-Digest") if resp.status_code == 200 else None

    def put_manifest(self, name: str, reference: str, data, media_type: str | None = None) -> str:
        if isinstance(data, dict):
            data = json.dumps(data).encode()
        media_type = media_type or json.loads(data).get("mediaType") or manifests.OCI_MANIFEST
        resp = self.request("PUT", f"/v2/{name}/manifests/{reference}", data=data,
                            headers={"Content-Type": media_type}, expect=(201,))
        return resp.headers.get("Docker-Content-Digest") or Digest.of(data)

    def delete_manifest(self, name: str, reference: str) -> None:
        self.request("DELETE", f"/v2/{name}/manifests/{reference}", expect=(202,))

    def referrers(self, name: str, digest: str, artifact_type: str | None = None):
        """OCI 1.1: (descriptors of the manifests whose subject is `digest`, the filters
        the registry applied). Unfiltered answers are filtered here, as the spec asks."""
        params = {"artifactType": artifact_type} if artifact_type else None
        resp = self.request("GET", f"/v2/{name}/referrers/{digest}", params=params)
        found = resp.json().get("manifests") or []
        applied = [f.strip() for f in resp.headers.get("OCI-Filters-Applied", "").split(",") if f.strip()]
        if artifact_type and "artifactType" not in applied:
            found = [d for d in found if d.get("artifactType") == artifact_type]
        return found, applied

    # -- listings --------------------------------------------------------------------
    def _pages(self, path: str, key: str, n: int | None, last: str | None, follow: bool) -> list:
        params = {k: v for k, v in (("n", n), ("last", last)) if v is not None}
        items, url = [], path
        while url:
            resp = self.request("GET", url, params=params)
            items.extend(resp.json().get(key) or [])
            nxt = resp.links.get("next", {}).get("url") if follow else None
            url, params = (nxt, None) if nxt else (None, None)
        return items

    def tags(self, name: str, n: int | None = None, last: str | None = None,
             follow: bool = True) -> list[str]:
        return self._pages(f"/v2/{name}/tags/list", "tags", n, last, follow)

    def catalog(self, n: int | None = None, last: str | None = None,
                follow: bool = True) -> list[str]:
        return self._pages("/v2/_catalog", "repositories", n, last, follow)

    def search(self, term: str, limit: int = 25) -> list[dict]:
        """The v1 search `docker search` uses; RegistryAPIError(404) where it is absent."""
        resp = self.request("GET", "/v1/search", params={"q": term, "n": limit},
                            headers={"X-Docker-Token": "true"})
        return resp.json().get("results") or []


def _verify(data: bytes, digest: str) -> None:
    if not Digest(digest).matches(data):
        raise ValueError(f"content does not match {digest}")
