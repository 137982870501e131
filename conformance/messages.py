"""The exact words an implementation prints, kept as data
(conformance/impls/<name>.messages.toml, beside the implementation's module).

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

HERE = Path(__file__).parent / "impls"
SUFFIX = ".messages.toml"


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
    data = tomllib.loads((HERE / f"{name}{SUFFIX}").read_text())
    parent = data.pop("inherit", None)
    own = _flatten(data)
    return {**load(parent), **own} if parent else own


_ANY_ON_THE_LINE = r"[^\n]*?"


def template_regex(template: str, values: dict[str, str] | None = None,
                   groups: dict[str, str] | None = None) -> re.Pattern:
    """The one reading of a message template as a regex. ``{*}`` is any text on one line;
    ``{name}`` is values[name] (escaped) or, where `groups` is given, a named group (its
    pattern in groups, any text on the line by default). A placeholder in neither is a
    KeyError: a check must not match words it did not name."""
    regex = []
    for part in re.split(r"(\{[a-z_*]+\})", template):
        if part == "{*}":
            regex.append(_ANY_ON_THE_LINE)
        elif part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if values is not None and name in values:
                regex.append(re.escape(str(values[name])))
            elif groups is not None:
                regex.append(f"(?P<{name}>{groups.get(name, _ANY_ON_THE_LINE)})")
            else:
                raise KeyError(name)
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
    if not template_regex(template, values).search(text):
        raise MessageMismatch(
            f"message {key!r} not found.\nexpected: {template!r} with {values}\nin: {text!r}", key)
