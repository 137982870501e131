"""Dockerfile parsing: parser directives, comments, line continuations, instructions.

The result is a list of Instruction(keyword, args, original, line, flags, json_args):
`original` is the instruction as written (after joining continuation lines), the
text Docker prints in `Step N/M : …`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from reference_impl.errors import EngineError, InvalidInput

KNOWN = {"FROM", "MAINTAINER", "RUN", "CMD", "ENTRYPOINT", "ENV", "ARG", "LABEL", "EXPOSE",
         "WORKDIR", "USER", "VOLUME", "COPY", "ADD", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_FLAG = re.compile(r"^--([a-z-]+)(?:=(.*))?$")


class ParseError(EngineError):
    def __init__(self, line: int, message: str):
        super().__init__(f"dockerfile parse error line {line}: {message}")
        self.line = line


@dataclass
class Instruction:
    keyword: str
    args: str            # after the flags
    original: str        # as written, continuation lines joined
    line: int
    flags: dict[str, str] = field(default_factory=dict)

    def json_array(self) -> list[str] | None:
        text = self.args.strip()
        if not text.startswith("["):
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        return None


def _directives(lines: list[str]) -> tuple[dict[str, str], int]:
    found, index = {}, 0
    for index, raw in enumerate(lines):
        match = _DIRECTIVE.match(raw.strip())
        if not match or match.group(1).lower() in found:
            break
        found[match.group(1).lower()] = match.group(2)
    else:
        index = len(lines)
    return found, index


def parse(text: str) -> list[Instruction]:
    lines = text.splitlines()
    directives, _ = _directives(lines)
    escape = directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise ParseError(1, f"invalid ESCAPE '{escape}'. Must be ` or \\")
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comments inside a continuation are dropped
        if not pending:
            start = number
        body = raw.rstrip()
        if body.endswith(escape):
            pending.append(body[:-1])
            continue
        pending.append(body)
        instructions.append(_instruction(" ".join(p.strip() for p in pending if p.strip()) if len(pending) > 1
                                         else pending[0].strip(), start))
        pending = []
    if pending:
        joined = " ".join(p.strip() for p in pending if p.strip())
        if joined:
            instructions.append(_instruction(joined, start))
    if not instructions:
        raise InvalidInput("the Dockerfile (Dockerfile) cannot be empty")
    return instructions


_FLAGS_OF = {"HEALTHCHECK": {"interval", "timeout", "start-period", "start-interval", "retries"}}


def _instruction(text: str, line: int) -> Instruction:
    keyword, _, rest = text.partition(" ")
    upper = keyword.upper()
    if upper not in KNOWN:
        raise ParseError(line, f"unknown instruction: {upper}")
    rest = rest.strip()
    flags = {}
    if upper in ("COPY", "ADD", "FROM", "RUN", "HEALTHCHECK"):
        while rest.startswith("--"):
            word, _, remainder = rest.partition(" ")
            match = _FLAG.match(word)
            if not match:
                break
            flags[match.group(1)] = match.group(2) or ""
            rest = remainder.strip()
    unknown = sorted(set(flags) - _FLAGS_OF.get(upper, set(flags)))
    if unknown:
        raise ParseError(line, f"Unknown flag: {unknown[0]}")
    if not rest and upper not in ("CMD", "ENTRYPOINT", "RUN"):
        raise ParseError(line, f"{upper} requires at least one argument")
    return Instruction(upper, rest, text, line, flags)
