"""--env-file as the docker CLI reads it: one VAR=value a line, `#` comments and blank
lines skipped, a bare VAR taken from the caller's environment (dropped when unset)."""
from __future__ import annotations

import os

from reference_impl.errors import InvalidInput


def read_env_files(paths: list[str]) -> list[str]:
    found = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError as exc:
            raise InvalidInput(f"open {path}: {(exc.strerror or str(exc)).lower()}") from None
        for line in lines:
            text = line.lstrip()
            if not text or text.startswith("#"):
                continue
            key, eq, value = text.partition("=")
            if not key:
                raise InvalidInput(f"invalid environment variable: {text}")
            if eq:
                found.append(f"{key}={value}")
            elif key in os.environ:
                found.append(f"{key}={os.environ[key]}")
    return found
