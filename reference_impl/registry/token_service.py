"""The token service beside the registry (GET /token, the realm of its challenges),
as Docker's clients call it: basic credentials (checked against the htpasswd file),
`service`, one or more `scope`, optional `account`; the answer is
{"token", "access_token", "expires_in", "issued_at"}.

Who gets what: a user with valid credentials gets the pull, push and delete actions
asked for on any repository and the catalog; an anonymous request gets a token
that grants nothing (as Docker Hub and Harbor hand out), so the registry answers
it with `insufficient_scope`. Wrong credentials are refused with 401. Refresh tokens
are not issued: Docker's `offline_token=true`/`client_id` ask for one, and a client
that gets none asks again with the password (as distribution's spec allows)."""
import asyncio
import json

from aiohttp import web

from . import names
from .access import Access, parse_scope
from .auth import Htpasswd, parse_basic
from .errors import RegistryError
from .tokens import Tokens

PATH = "/token"
GRANTABLE = {"repository": {"pull", "push", "delete"}, "registry": {"*"}}


def grantable(access: Access) -> bool:
    if access.type == "repository":
        return names.valid_name(access.name) and access.action in GRANTABLE["repository"]
    return access == Access("registry", "catalog", "*")


class TokenService:
    def __init__(self, tokens: Tokens, htpasswd: Htpasswd, realm: str):
        self.tokens, self.htpasswd, self.realm = tokens, htpasswd, realm

    async def handle(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            raise RegistryError("UNSUPPORTED", {"method": request.method})
        service = request.query.get("service")
        if service is not None and service != self.tokens.service:
            raise RegistryError("DENIED", {"service": service[:200]},
                                message="token requested for another service", status=400)
        user = await self._user(request)
        asked = [a for scope in request.query.getall("scope", []) for a in parse_scope(scope)]
        granted = [a for a in asked if grantable(a)] if user else []
        issued = self.tokens.issue(user or "", granted)
        body = {"token": issued.token, "access_token": issued.token,
                "expires_in": issued.expires_in, "issued_at": issued.issued_at}
        return web.Response(body=(json.dumps(body) + "\n").encode(),
                            headers={"Content-Type": "application/json"})

    async def _user(self, request: web.Request) -> str | None:
        """The authenticated user, None for an anonymous request; 401 for wrong credentials."""
        header = request.headers.get("Authorization")
        if header is None:
            return None
        creds = parse_basic(header)
        account = request.query.get("account")
        if creds is None or (account and account != creds[0]) or \
                not await asyncio.to_thread(self.htpasswd.check, *creds):
            raise RegistryError("UNAUTHORIZED", message="incorrect username or password",
                                headers={"WWW-Authenticate": f'Basic realm="{self.realm}"'})
        return creds[0]
