"""Detach keys: the key sequence that leaves an attached TTY without stopping its container
(default ctrl-p,ctrl-q), read from the attached input as moby's escape proxy reads it."""
from __future__ import annotations

from reference_impl.errors import InvalidArgument

DEFAULT = b"\x10\x11"  # ctrl-p,ctrl-q
DETACHED = "read escape sequence"  # what the docker CLI says when the sequence is read

# ctrl-@ is 0, ctrl-a..ctrl-z 1..26, then ctrl-[ ctrl-\ ctrl-] ctrl-^ ctrl-_ 27..31 (the key's code - 64)
_CONTROL = {f"ctrl-{chr(64 + code).lower()}": code for code in range(32)}


def parse(text: str) -> bytes:
    """`a,ctrl-b,...` as bytes; an empty text is the default. Refused in dockerd's words."""
    if not text:
        return DEFAULT
    codes = bytearray()
    for key in text.split(","):
        if len(key) == 1:
            codes.append(ord(key))
        elif key.lower() in _CONTROL:
            codes.append(_CONTROL[key.lower()])
        else:
            raise InvalidArgument(f"Invalid detach keys ({text}) provided")
    return bytes(codes)


class EscapeProxy:
    """Input passes through until the sequence is typed: the bytes that may begin it are held,
    given back as soon as they cannot, and never passed on once it is complete."""

    def __init__(self, keys: bytes):
        self.keys = keys
        self.held = b""

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(the bytes to pass on, whether the sequence was completed)."""
        out = bytearray()
        for byte in data:
            self.held += bytes([byte])
            while self.held and not self.keys.startswith(self.held):  # the longest tail that may begin it
                out.append(self.held[0])
                self.held = self.held[1:]
            if self.held == self.keys:
                self.held = b""
                return bytes(out), True
        return bytes(out), False
