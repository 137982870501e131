"""Registry credentials in Docker's config.json format, under $STRATA_CONFIG (default
~/.strata): {"auths": {"<registry>": {"auth": base64("user:password")}}}, mode 0600."""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from reference_impl.fsutil import atomic_write


def config_path() -> Path:
    directory = os.environ.get("STRATA_CONFIG") or os.path.join(os.path.expanduser("~"), ".strata")
    return Path(directory) / "config.json"


def _read() -> dict:
    try:
        return json.loads(config_path().read_text())
    except FileNotFoundError:
        return {}


def _write(data: dict) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, json.dumps(data, indent="\t").encode())
    os.chmod(path, 0o600)


def lookup(registry: str) -> tuple[str, str] | None:
    entry = _read().get("auths", {}).get(registry)
    if not entry or "auth" not in entry:
        return None
    user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
    return user, password


def store(registry: str, user: str, password: str) -> Path:
    data = _read()
    data.setdefault("auths", {})[registry] = {
        "auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
    _write(data)
    return config_path()


def forget(registry: str) -> None:
    data = _read()
    if registry in data.get("auths", {}):
        del data["auths"][registry]
        _write(data)
