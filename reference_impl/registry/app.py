"""The aiohttp application: one dispatcher that matches the API's paths (names
contain slashes, so routing is by regular expression on the raw path), checks
auth, validates names and turns RegistryError into the spec's JSON bodies."""
import asyncio
import logging
import re

from aiohttp import web

from . import api_blobs, api_listing, api_manifests, names
from .auth import Htpasswd, access_records, parse_basic
from .errors import API_VERSION_HEADER, RegistryError
from .storage import Storage
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
    """What every handler needs: the store, the upload sessions and the auth."""

    def __init__(self, root: str, htpasswd: str | None = None, realm: str = "strata-registry"):
        self.storage = Storage(root)
        self.uploads = Uploads(self.storage)
        self.htpasswd = Htpasswd(htpasswd) if htpasswd else None
        self.realm = realm


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


async def _authorized(registry: Registry, request: web.Request) -> bool:
    if registry.htpasswd is None or request.path.startswith("/v1/_ping"):
        return True
    creds = parse_basic(request.headers.get("Authorization"))
    if creds is None:
        return False
    return await asyncio.to_thread(registry.htpasswd.check, *creds)


def error_response(request: web.Request, err: RegistryError) -> web.Response:
    headers = {"Content-Type": "application/json; charset=utf-8", **err.headers}
    return web.Response(status=err.status, body=err.body(), headers=headers)


async def dispatch(request: web.Request) -> web.StreamResponse:
    registry: Registry = request.app["registry"]
    path = request.raw_path.split("?", 1)[0]
    route = _route(path)
    if route is None:
        return web.Response(status=404, text="404 page not found\n",
                            content_type="text/plain", charset="utf-8")
    handlers, kwargs, name = route
    try:
        if not await _authorized(registry, request):
            detail = access_records(name if name and names.valid_name(name) else None,
                                    request.method, "uid" in kwargs)
            raise RegistryError("UNAUTHORIZED", detail, headers={
                "WWW-Authenticate": f'Basic realm="{registry.realm}"'})
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
