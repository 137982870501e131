"""The aiohttp application: one dispatcher that matches the API's paths (names
contain slashes, so routing is by regular expression on the raw path), checks
auth, validates names and turns RegistryError into the spec's JSON bodies."""
import asyncio
import logging
import re

from aiohttp import web

from . import access, api_blobs, api_listing, api_manifests, names
from .auth import BasicAuth, Htpasswd
from .bearer import BearerAuth
from .errors import API_VERSION_HEADER, RegistryError
from .storage import Storage
from .token_service import PATH as TOKEN_PATH, TokenService
from .tokens import Tokens, load_or_create_key
from .uploads import Uploads

log = logging.getLogger("strata.registry")

_REPO_ROUTE = re.compile(
    r"/v2/(?P<name>.+?)/(?:"
    r"(?P<tags>tags/list)"
    r"|manifests/(?P<reference>[^/]+)"
    r"|referrers/(?P<subject>[^/]+)"
    r"|blobs/uploads/(?P<upload>[^/]*)"
    r"|(?P<blobs>blobs)/(?P<digest>[^/]+))")


class Registry:
    """What every handler needs: the store, the upload sessions and the auth
    (None, BasicAuth, or BearerAuth with the token service beside it)."""

    def __init__(self, root: str, htpasswd: str | None = None, realm: str = "strata-registry"):
        self.storage = Storage(root)
        self.uploads = Uploads(self.storage)
        self.auth = BasicAuth(Htpasswd(htpasswd), realm) if htpasswd else None
        self.token_service: TokenService | None = None

    def use_tokens(self, htpasswd: str, realm: str, service: str, issuer: str, ttl: int,
                   token_realm: str | None = None) -> None:
        """Token auth: the registry wants bearer tokens that its token service issues."""
        tokens = Tokens(load_or_create_key(self.storage.root), service, issuer, ttl)
        self.auth = BearerAuth(tokens, token_realm)
        self.token_service = TokenService(tokens, Htpasswd(htpasswd), realm)

    def bound(self, base_url: str) -> None:
        """The server listens at base_url: the default realm of its challenges follows."""
        if isinstance(self.auth, BearerAuth) and self.auth.realm is None:
            self.auth.realm = base_url + TOKEN_PATH


def _route(path: str):
    """(handlers-by-method, kwargs, repository name or None) for a raw path, or None."""
    if path in ("/v2/", "/v2"):
        return {"GET": api_listing.base, "HEAD": api_listing.base}, {}, None
    if path == "/v2/_catalog":
        return {"GET": api_listing.catalog}, {}, None
    if path in ("/v1/_ping", "/v1/_ping/"):
        return {"GET": api_listing.ping_v1, "HEAD": api_listing.ping_v1}, {}, None
    if path in ("/v1/search", "/v1/search/"):
        return {"GET": api_listing.search}, {}, None
    m = _REPO_ROUTE.fullmatch(path)
    if not m:
        return None
    name = m["name"]
    if m["tags"]:
        return {"GET": api_listing.tags}, {"name": name}, name
    if m["reference"] is not None:
        h = api_manifests
        return ({"GET": h.get, "HEAD": h.get, "PUT": h.put, "DELETE": h.delete},
                {"name": name, "reference": m["reference"]}, name)
    if m["subject"] is not None:
        return {"GET": api_manifests.referrers}, {"name": name, "digest": m["subject"]}, name
    if m["upload"] is not None:
        h = api_blobs
        if m["upload"] == "":
            return {"POST": h.start_upload}, {"name": name}, name
        return ({"GET": h.upload_status, "PATCH": h.patch_upload, "PUT": h.finish_upload,
                 "DELETE": h.cancel_upload}, {"name": name, "uid": m["upload"]}, name)
    h = api_blobs
    return ({"GET": h.get_blob, "HEAD": h.get_blob, "DELETE": h.delete_blob},
            {"name": name, "digest": m["digest"]}, name)


def _required(path: str, request: web.Request, name: str | None) -> list:
    if path.startswith(("/v2/_catalog", "/v1/search")):
        return access.required(None, request.method, False, is_catalog=True)
    valid = name if name and names.valid_name(name) else None
    if name and not valid:
        return []
    return access.required(valid, request.method, "/blobs/uploads/" in path, request.query)


def error_response(request: web.Request, err: RegistryError) -> web.Response:
    headers = {"Content-Type": "application/json; charset=utf-8", **err.headers}
    return web.Response(status=err.status, body=err.body(), headers=headers)


async def dispatch(request: web.Request) -> web.StreamResponse:
    registry: Registry = request.app["registry"]
    path = request.raw_path.split("?", 1)[0]
    if registry.token_service is not None and path == TOKEN_PATH:
        try:
            return await registry.token_service.handle(request)
        except RegistryError as err:
            return error_response(request, err)
    route = _route(path)
    if route is None:
        return web.Response(status=404, text="404 page not found\n",
                            content_type="text/plain", charset="utf-8")
    handlers, kwargs, name = route
    try:
        if registry.auth is not None and not path.startswith("/v1/_ping"):
            await registry.auth.check(request, _required(path, request, name))
        handler = handlers.get(request.method)
        if handler is None:
            raise RegistryError("UNSUPPORTED", {"method": request.method})
        if name is not None and not names.valid_name(name):
            raise RegistryError("NAME_INVALID", {"name": name[:300]})
        return await handler(registry, request, **kwargs)
    except RegistryError as err:
        return error_response(request, err)
    except (ConnectionError, asyncio.CancelledError):
        raise
    except Exception:   # the harness must see a spec body, and the server must go on
        log.exception("%s %s failed", request.method, path)
        return error_response(request, RegistryError("UNKNOWN"))


async def _on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault(*API_VERSION_HEADER)


def make_app(registry: Registry) -> web.Application:
    registry.storage.prepare()
    app = web.Application(client_max_size=1 << 20)
    app["registry"] = registry
    app.on_response_prepare.append(_on_prepare)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app
