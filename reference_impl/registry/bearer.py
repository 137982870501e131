"""The registry's side of token auth: a request carries `Authorization: Bearer <jwt>`
from the token service; it must be valid and grant every access the route needs.
Otherwise 401 with distribution's challenge, e.g.
    Bearer realm="http://127.0.0.1:5000/token",service="strata-registry",
           scope="repository:app:pull,push",error="insufficient_scope"
and the UNAUTHORIZED body whose detail lists the access asked for."""
import jwt

from .access import Access, detail, scope_param
from .errors import RegistryError
from .tokens import Tokens


class BearerAuth:
    def __init__(self, tokens: Tokens, realm: str | None = None):
        self.tokens = tokens
        self.realm = realm     # set once the server knows its address, unless given

    def challenge(self, access: list[Access], error: str | None = None) -> str:
        value = f'Bearer realm="{self.realm}",service="{self.tokens.service}"'
        scope = scope_param(access)
        if scope:
            value += f',scope="{scope}"'
        if error:
            value += f',error="{error}"'
        return value

    async def check(self, request, access: list[Access]) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            self._refuse(access, None)
        try:
            granted = self.tokens.verify(token.strip())
        except jwt.InvalidTokenError:
            self._refuse(access, "invalid_token")
        if not all(a in granted for a in access):
            self._refuse(access, "insufficient_scope")

    def _refuse(self, access: list[Access], error: str | None):
        raise RegistryError("UNAUTHORIZED", detail(access),
                            headers={"WWW-Authenticate": self.challenge(access, error)})
