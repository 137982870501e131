"""The base of every implementation the suite can check: a record (CLI argv, environment,
host, capabilities, message and expectations files) whose one primitive is `run` — the
implementation's CLI with some arguments, on its host. What an implementation does
besides (probe, fingerprint, a run's set-up, a private instance) is a method, derived
from `run` and its host's primitives, that its own class overrides where it differs.

Checks never look at an implementation's name or class.
"""
from __future__ import annotations

import contextlib
import shlex
import subprocess
from dataclasses import dataclass, field, replace
from typing import ClassVar, Iterator

from conformance.impls.hosts import DEFAULT_TIMEOUT, LOCAL, CommandResult, Host

CAPABILITIES = {
    "private-instance",  # can start an instance with a store of its own (whole-store checks)
    "serial-import",     # base images must be imported one at a time (a storage race in the engine)
}


@dataclass(frozen=True)
class Implementation:
    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    host: Host = LOCAL
    # environment variable naming the client's config directory, and the file in it
    config_dir_env: str = "DOCKER_CONFIG"
    credentials_file: str = "config.json"
    build_flags: tuple[str, ...] = ()
    messages: str = "docker"
    # checks expected to differ from Docker here: an implementation name (its file
    # conformance/impls/<name>.expectations.toml) or a path to a TOML file of that format
    expectations: str = "docker"
    capabilities: frozenset[str] = frozenset()
    # the CLI the harness cleans up with, when it is not `argv` (a wrapper that breaks `rmi`
    # on purpose must not make the run leak)
    cleanup_argv: tuple[str, ...] | None = None
    # the environment fingerprint of a run: key -> CLI arguments whose stdout is the value
    fingerprint_args: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # the registry part the implementation gives a local image's name that has none, in
    # what it prints (podman: "localhost/"; Docker prints the name as given)
    local_registry: str = ""
    # the store this record shares with another record of the run (podman-api serves
    # podman's): one storage lock for both (fixtures.storage_lock); default: its own
    store: str = ""

    # a per-run set-up on this machine (`prepare` writes files, starts a service here): such
    # an implementation cannot be run on another host as it is (vagrant:<name> says so)
    needs_local_run_setup: ClassVar[bool] = False

    # -- the one primitive ---------------------------------------------------------
    def run(self, args, env: dict[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT,
            input: str | bytes | None = None) -> CommandResult:
        """The CLI with `args` on this implementation's host, in its environment (plus `env`).
        On this machine a command that outlives `timeout` raises subprocess.TimeoutExpired;
        on a host over SSH it exits 124."""
        return self.host.run((*self.argv, *args), env={**self.env, **(env or {})}, timeout=timeout,
                             input=input)

    # -- derived -------------------------------------------------------------------
    @property
    def host_url(self) -> str:
        return self.host.url

    @property
    def pytest_id(self) -> str:
        return self.name

    def with_env(self, **extra: str) -> "Implementation":
        return replace(self, env={**self.env, **extra})

    def command_line(self, *args: str) -> str:
        """The CLI with `args` as one shell command, its environment included."""
        envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items()))
        return f"env {envs} {shlex.join([*self.argv, *args])}" if envs else shlex.join([*self.argv, *args])

    def listed_name(self, ref: str) -> str:
        """An image name as this implementation lists and reports it (images, ps, history,
        build's and rmi's words): `ref` with the local registry part where it has none."""
        first, slash, _ = ref.partition("/")
        has_registry = slash and ("." in first or ":" in first or first == "localhost")
        return ref if has_registry or not self.local_registry else f"{self.local_registry}/{ref}"

    def given_name(self, listed: str) -> str:
        """`listed_name` undone: a listed local name as a check gives it."""
        return listed.removeprefix(f"{self.local_registry}/") if self.local_registry else listed

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def installed(self) -> bool:
        return self.host.has_program(self.argv[0])

    def missing_reason(self) -> str | None:
        """None when the implementation answers here; otherwise why not."""
        if not self.installed():
            return f"{self.argv[0]!r} is not installed"
        return self.probe()

    def probe_cli(self, args: tuple[str, ...], timeout: int, failing: str) -> str | None:
        """None when `<cli> args` succeeds within timeout; else why not, starting with `failing`."""
        try:
            out = self.run(args, timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"{failing}: no answer within {timeout} s"
        if out.rc != 0:
            return f"{failing}: {out.stderr.strip() or out.stdout.strip()}"
        return None

    def fingerprint(self) -> dict[str, str]:
        """What this implementation says about itself (versions, storage driver)."""
        found = {}
        for key, args in sorted(self.fingerprint_args.items()):
            try:
                out = self.run(args, timeout=30)
                lines = out.stdout.strip().splitlines() or [""]
                found[key] = lines[0] if out.rc == 0 else f"unknown (exit {out.rc})"
            except (OSError, subprocess.TimeoutExpired) as exc:
                found[key] = f"unknown ({exc.__class__.__name__})"
        return found

    def for_cleanup(self) -> "Implementation":
        """The record the harness cleans up with (`cleanup_argv` when given)."""
        return replace(self, argv=self.cleanup_argv) if self.cleanup_argv else self

    def remove_containers(self) -> None:
        """Every container of this instance, removed (before its store goes)."""
        cli = shlex.join(self.argv)
        self.host.shell(f"{cli} rm -f $({cli} ps -aq) 2>/dev/null", env=self.env, timeout=300)

    # -- overridden where an implementation differs --------------------------------
    def probe(self) -> str | None:
        """None when the installed implementation works here; otherwise why not."""
        return None

    def prepare(self, run: str) -> "Implementation":
        """The record configured for one run (idempotent: the controller and every worker
        call it); e.g. config files under /tmp/<run>-<name>, so the leak check sees leftovers."""
        return self

    def ready(self) -> None:
        """Make the run's set-up answer again if it lapsed (before a check, before the leak
        check): strata-api's service exits after 10 idle minutes."""

    def finish(self) -> list[str]:
        """Undo `prepare` (called once, by the controller, after the engine leak check);
        returns what the undoing found left behind on the host (a VM's domain, say)."""
        return []

    @contextlib.contextmanager
    def private_instance(self, label: str) -> Iterator["Implementation"]:
        """An instance with a store of its own (capability "private-instance"), on this
        record's host, made with the host's primitives; yields its record."""
        raise NotImplementedError(f"{self.name} cannot start a private instance")
        yield self  # pragma: no cover
