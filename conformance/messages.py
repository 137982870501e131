"""The exact words an implementation prints, kept as data (messages/<name>.toml).

Checks assert the meaning first (exit code, resulting state) and then the words,
by key: ``expect_message(result.stderr, msgs, "rmi.conflict.stopped_by_tag",
ref=..., container=..., image=...)``. A template's ``{placeholders}`` match the
values given; ``{*}`` matches anything on one line.
"""
from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent / "messages"


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@cache
def load(name: str) -> dict[str, str]:
    data = tomllib.loads((HERE / f"{name}.toml").read_text())
    parent = data.pop("inherit", None)
    own = _flatten(data)
    return {**load(parent), **own} if parent else own


def pattern(template: str, values: dict[str, str]) -> re.Pattern:
    parts = re.split(r"(\{[a-z_*]+\})", template)
    regex = []
    for part in parts:
        if part == "{*}":
            regex.append(r"[^\n]*")
        elif part.startswith("{") and part.endswith("}"):
            regex.append(re.escape(str(values[part[1:-1]])))
        else:
            regex.append(re.escape(part))
    return re.compile("".join(regex))


class MessageMismatch(AssertionError):
    """The words of message `message_key` were not found: an expectation can name the key
    (``fails_at = ["message:<key>"]``, conformance/known.py)."""

    def __init__(self, text: str, message_key: str):
        super().__init__(text)
        self.message_key = message_key


def expect_message(text: str, messages: dict[str, str], key: str, **values) -> None:
    __tracebackhide__ = True
    template = messages[key]
    if not pattern(template, values).search(text):
        raise MessageMismatch(
            f"message {key!r} not found.\nexpected: {template!r} with {values}\nin: {text!r}", key)
