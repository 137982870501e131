"""Implementations the suite can check: one class each (conformance/impls/<name>.py),
registered by name and imported lazily (importing this package runs nothing).

What differs between implementations lives in their classes and nowhere else: the CLI
argv, the host the CLI runs on (conformance/impls/hosts.py), its environment, the flags
its build needs to behave as Docker's classic builder, where its client keeps
credentials, what it supports (capabilities), and how it makes a run's set-up and a
private instance. Checks never look at an implementation's name.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import replace
from pathlib import Path

from conformance.impls.base import CAPABILITIES, Implementation

__all__ = ["CAPABILITIES", "Implementation", "REGISTRY", "HOSTS", "add_file", "is_known",
           "known_names", "load"]

# name -> "module:callable"; the callable (a class) returns the implementation's record
REGISTRY = {
    "docker": "conformance.impls.docker:Docker",
    "podman": "conformance.impls.podman:Podman",
    "podman-api": "conformance.impls.podman_api:PodmanApi",
    "strata": "conformance.impls.strata:Strata",
    "strata-api": "conformance.impls.strata_api:StrataApi",
}

# "<host>:<name>": implementation <name>'s record on another host, e.g. vagrant:strata
# (only when named with --impl: never part of the default "every one that answers")
HOSTS = {
    "vagrant": "conformance.impls.vagrant:in_vagrant",
}

# Implementations defined in files (--impl-file): name -> record. A file entry is
# another implementation's record with another CLI, e.g. an engine of one's own
# that speaks Docker's CLI, or a wrapper that deviates on purpose:
#   [my-engine]
#   like = "docker"                 # capabilities, messages, environment, behaviour, ...
#   argv = ["./bin/my-engine"]      # relative to the file
#   env = {MY_ENGINE_ROOT = "/var/lib/my-engine"}   # added to like's environment
#   cleanup_argv = ["docker"]       # optional: the CLI the harness cleans up with
#   expectations = "./my.toml"      # optional: its known differences (default: like's)
_FROM_FILES: dict[str, Implementation] = {}


def _named(target: str):
    module, attribute = target.split(":")
    return getattr(importlib.import_module(module), attribute)


def add_file(path: str | os.PathLike) -> list[str]:
    """Register the implementations a TOML file defines; returns their names."""
    import tomllib
    path = Path(path).resolve()
    data = tomllib.loads(path.read_text())
    for name, entry in data.items():
        like = load(entry.get("like", "docker"))
        argv = [str((path.parent / a).resolve()) if a.startswith(("./", "../")) else a
                for a in entry["argv"]]
        cleanup = entry.get("cleanup_argv")
        expected = entry.get("expectations", like.expectations)
        if expected.startswith(("./", "../")):
            expected = str((path.parent / expected).resolve())
        _FROM_FILES[name] = replace(like, name=name, argv=tuple(argv),
                                    env={**like.env, **entry.get("env", {})},
                                    cleanup_argv=tuple(cleanup) if cleanup else None,
                                    expectations=expected)
    return sorted(data)


def known_names() -> list[str]:
    return sorted({*REGISTRY, *_FROM_FILES})


def is_known(name: str) -> bool:
    """A known name, or a known name on a known other host (vagrant:strata)."""
    where, _, inner = name.partition(":")
    return name in known_names() or (where in HOSTS and inner in known_names())


def load(name: str) -> Implementation:
    if name in _FROM_FILES:
        return _FROM_FILES[name]
    where, _, inner = name.partition(":")
    if inner and where in HOSTS:
        return _named(HOSTS[where])(load(inner))
    try:
        target = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown implementation {name!r}; known: {', '.join(known_names())}") from None
    return _named(target)()
