"""Talking to an implementation the way a user does: its CLI, on its testinfra host.

Every command a check runs goes through `Cli`, which records it (command, exit
code, stdout, stderr) in the check's transcript; a failing check prints the
whole transcript.
"""
from __future__ import annotations

import contextlib
import shlex
import time
import uuid
from dataclasses import dataclass, field

from conformance import ids, remote

DEFAULT_TIMEOUT = 180  # seconds; no single CLI call in the suite should come near it


@dataclass
class Result:
    command: str
    rc: int
    stdout: str
    stderr: str
    seconds: float
    # a build's image id as its --iidfile said (sha256:<hex>); None for other commands and
    # for a build that made no image
    image: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.rc == 0

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.strip()]

    @property
    def output(self) -> str:
        """stdout and stderr together, for assertions that do not care which."""
        return self.stdout + self.stderr

    def describe(self) -> str:
        return (
            f"$ {self.command}\n"
            f"[exit {self.rc}, {self.seconds:.2f} s]\n"
            f"--- stdout ---\n{self.stdout}"
            f"--- stderr ---\n{self.stderr}"
        )


@dataclass
class Transcript:
    """Every command one check ran, in order."""

    results: list[Result] = field(default_factory=list)

    def add(self, result: Result) -> None:
        self.results.append(result)

    def render(self) -> str:
        return "\n".join(r.describe() for r in self.results)


class Cli:
    """One implementation's CLI as seen from one check."""

    def __init__(self, impl, host, transcript: Transcript, env: dict[str, str] | None = None,
                 storage=None):
        self.impl = impl
        self.host = host
        self.transcript = transcript
        self.env = {**impl.env, **(env or {})}
        # held shared around every command where the engine's storage races (conformance/locks.py)
        self.storage = storage

    # -- the one primitive -------------------------------------------------
    def _execute(self, shown: str, command: str, timeout: float) -> Result:
        envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items()))
        wrapped = f"env {envs} timeout -k 5 {int(timeout)} {command}" if envs else (
            f"timeout -k 5 {int(timeout)} {command}")
        start = time.monotonic()
        bridge = remote.bridge(self.host)
        if bridge is not None:  # a host over SSH: the files and services the command names
            bridge.stage(wrapped)
        with self.storage.shared() if self.storage is not None else contextlib.nullcontext():
            out = self.host.run(wrapped)
        result = Result(shown, out.rc, out.stdout, out.stderr, time.monotonic() - start)
        self.transcript.add(result)
        if out.rc == 124:
            raise HarnessError(f"timed out after {timeout} s: {shown}")
        return result

    # -- derived -----------------------------------------------------------
    @property
    def command(self) -> str:
        """The CLI as a shell word sequence, for pipelines (`{cli}` in `shell`)."""
        return shlex.join(self.impl.argv)

    def run(self, *args, stdin_file=None, input: str | None = None,
            timeout: float = DEFAULT_TIMEOUT) -> Result:
        words = [*self.impl.argv, *(str(a) for a in args)]
        command = shlex.join(words)
        shown = shlex.join([self.impl.name, *(str(a) for a in args)])
        if stdin_file is not None:
            command += f" < {shlex.quote(str(stdin_file))}"
            shown += f" < {stdin_file}"
        if input is not None:
            script = 'printf %s "$0" | ' + command
            command = f"sh -c {shlex.quote(script)} {shlex.quote(input)}"
            shown = f"printf %s ... | {shown}"
        return self._execute(shown, command, timeout)

    def shell(self, script: str, timeout: float = DEFAULT_TIMEOUT, **values) -> Result:
        """Run a shell pipeline; `{cli}` in the script stands for this implementation's CLI."""
        text = script.format(cli=self.command, **{k: shlex.quote(str(v)) for k, v in values.items()})
        return self._execute(text, f"sh -c {shlex.quote(text)}", timeout)

    def ok(self, *args, **kwargs) -> Result:
        __tracebackhide__ = True
        result = self.run(*args, **kwargs)
        if result.rc != 0:
            raise AssertionError(f"expected success:\n{result.describe()}")
        return result

    def fails(self, *args, **kwargs) -> Result:
        __tracebackhide__ = True
        result = self.run(*args, **kwargs)
        if result.rc == 0:
            raise AssertionError(f"expected a failure:\n{result.describe()}")
        return result

    def build(self, context, *options, tag: str | None = None, **kwargs) -> Result:
        """`build` with the implementation's build flags; returns the result (success or not),
        with the built image's id read from `--iidfile` (every implementation writes one; the
        words a build prints are the implementation's own)."""
        iidfile = f"/tmp/strata-iid-{uuid.uuid4().hex}"
        args = ["build", *self.impl.build_flags, "--iidfile", iidfile, *options]
        if tag:
            args += ["-t", tag]
        result = self.run(*args, str(context), **kwargs)
        written = self.host.run(f"cat {iidfile} 2>/dev/null; rm -f {iidfile}")
        result.image = ids.full(written.stdout) if written.stdout.strip() else None
        return result

    def build_ok(self, context, *options, tag: str | None = None, **kwargs) -> str:
        """Build that must succeed; returns the full image id (sha256:<hex>)."""
        __tracebackhide__ = True
        result = self.build(context, *options, tag=tag, **kwargs)
        if result.rc != 0:
            raise AssertionError(f"expected the build to succeed:\n{result.describe()}")
        if result.image is None:
            raise AssertionError(f"the build wrote no --iidfile:\n{result.describe()}")
        return result.image

    def listed_name(self, ref: str) -> str:
        """How this implementation lists and reports the image name `ref` (conformance/impls/base.py)."""
        return self.impl.listed_name(ref)

    def image_id(self, ref: str) -> str:
        """The image's full id, normalised to sha256:<hex> (conformance/ids.py); a check
        about how `{{.Id}}` is printed reads it with `image inspect` itself."""
        __tracebackhide__ = True
        return ids.full(self.ok("image", "inspect", "--format", "{{.Id}}", ref).stdout)

    def inspect(self, ref: str, fmt: str) -> str:
        __tracebackhide__ = True
        return self.ok("inspect", "--format", fmt, ref).stdout.strip()

    def inspect_id(self, ref: str, fmt: str) -> str:
        """An inspect field that holds an image id ({{.Parent}}, {{.Image}}), normalised
        to sha256:<hex> (conformance/ids.py); "" where the field is empty."""
        __tracebackhide__ = True
        value = self.inspect(ref, fmt)
        return ids.full(value) if value else ""

    def exists(self, kind: str, ref: str) -> bool:
        """Whether an image or container of that name/id exists (`image|container inspect`)."""
        return self.run(kind, "inspect", "--format", "{{.Id}}", ref).rc == 0


class HarnessError(Exception):
    """The harness itself broke (timeout, missing tool): an error, not a non-conformance."""
