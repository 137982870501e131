"""Basic auth from an htpasswd file with bcrypt entries (as `htpasswd -B` writes
them, $2y$/$2b$/$2a$), checked with the `bcrypt` package.

bcrypt is slow on purpose and Docker sends credentials with every request, so a
successful check is remembered (by a keyed hash of user and password, never the
password itself) for as long as the htpasswd file is unchanged.
"""
import asyncio
import base64
import binascii
import hashlib
import hmac
import os
import secrets

import bcrypt

from .access import Access, detail
from .errors import RegistryError


class Htpasswd:
    def __init__(self, path: str):
        self.path = path
        self._mtime = None
        self._entries: dict[str, bytes] = {}
        self._ok: set[bytes] = set()
        self._key = secrets.token_bytes(32)

    def _load(self) -> None:
        mtime = os.stat(self.path).st_mtime_ns
        if mtime == self._mtime:
            return
        entries = {}
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#") or ":" not in line:
                    continue
                user, hashed = line.split(":", 1)
                if hashed.startswith(("$2y$", "$2b$", "$2a$")):
                    entries[user] = hashed.encode()
        self._entries, self._ok, self._mtime = entries, set(), mtime

    def check(self, user: str, password: str) -> bool:
        """True when user and password match an entry (bcrypt; blocking)."""
        self._load()
        hashed = self._entries.get(user)
        if hashed is None:
            return False
        token = hmac.new(self._key, f"{user}\0{password}".encode(), hashlib.sha256).digest()
        if token in self._ok:
            return True
        if hashed.startswith(b"$2y$"):
            hashed = b"$2b$" + hashed[4:]
        try:
            ok = bcrypt.checkpw(password.encode(), hashed)
        except ValueError:
            return False
        if ok:
            self._ok.add(token)
        return ok


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` header, else None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class BasicAuth:
    """The registry's own basic auth: every request carries the user and password."""

    def __init__(self, htpasswd: Htpasswd, realm: str):
        self.htpasswd, self.realm = htpasswd, realm

    async def check(self, request, access: list[Access]) -> None:
        creds = parse_basic(request.headers.get("Authorization"))
        if creds is not None and await asyncio.to_thread(self.htpasswd.check, *creds):
            return
        raise RegistryError("UNAUTHORIZED", detail(access), headers={
            "WWW-Authenticate": f'Basic realm="{self.realm}"'})
