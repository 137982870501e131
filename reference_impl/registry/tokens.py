"""Signed bearer tokens as distribution's token spec (docs/spec/auth/jwt.md) has them:
an RS256 JWT with iss, sub, aud (the service), exp, nbf, iat, jti and an `access`
claim of [{"type", "name", "actions"}], signed with a key the registry generates in
its root at first start. PyJWT signs and verifies; only RS256 is accepted, so
`alg: none` and HMAC-with-the-public-key tokens are refused."""
import base64
import hashlib
import os
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .access import Access

ALGORITHM = "RS256"
KEY_FILE = os.path.join("token", "signing-key.pem")
LEEWAY_SECONDS = 5


def load_or_create_key(root: str) -> rsa.RSAPrivateKey:
    """The signing key under `root`; generated (RSA 2048, mode 0600) when absent. Two
    first starts at once agree on one key: it is linked into place, never overwritten."""
    path = os.path.join(root, KEY_FILE)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        tmp = f"{path}.{uuid.uuid4().hex}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def key_id(public_key) -> str:
    """libtrust's key id (what distribution's `kid` header holds): the first 240 bits of
    the SHA-256 of the DER public key, base32, in groups of four."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


@dataclass(frozen=True)
class Issued:
    token: str
    expires_in: int
    issued_at: str    # RFC 3339, as the token response carries it


class Tokens:
    """Issues and verifies the tokens of one service (one key, one issuer)."""

    def __init__(self, key: rsa.RSAPrivateKey, service: str, issuer: str, ttl: int):
        self.key, self.service, self.issuer, self.ttl = key, service, issuer, ttl
        self.public_key = key.public_key()
        self.kid = key_id(self.public_key)

    def issue(self, subject: str, access: list[Access], now: float | None = None) -> Issued:
        now = int(time.time() if now is None else now)
        grouped: dict[tuple[str, str], list[str]] = {}
        for a in access:
            grouped.setdefault((a.type, a.name), []).append(a.action)
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service,
                  "exp": now + self.ttl, "nbf": now, "iat": now, "jti": secrets.token_hex(16),
                  "access": [{"type": t, "name": n, "actions": actions}
                             for (t, n), actions in grouped.items()]}
        token = jwt.encode(claims, self.key, algorithm=ALGORITHM, headers={"kid": self.kid})
        issued_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        return Issued(token, self.ttl, issued_at)

    def verify(self, token: str) -> set[Access]:
        """The access a token grants; jwt.InvalidTokenError when it is expired, not yet
        valid, for another service or issuer, badly signed or not RS256."""
        claims = jwt.decode(token, self.public_key, algorithms=[ALGORITHM], audience=self.service,
                            issuer=self.issuer, leeway=LEEWAY_SECONDS,
                            options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub"]})
        granted = set()
        for entry in claims.get("access") or []:
            if not isinstance(entry, dict):
                raise jwt.InvalidTokenError("malformed access claim")
            kind, name, actions = entry.get("type"), entry.get("name"), entry.get("actions")
            if not isinstance(kind, str) or not isinstance(name, str) or not isinstance(actions, list):
                raise jwt.InvalidTokenError("malformed access claim")
            granted |= {Access(kind, name, a) for a in actions if isinstance(a, str)}
        return granted
