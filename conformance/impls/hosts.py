"""Where an implementation's CLI runs: this machine, or a testinfra host (a VM over SSH).

A host has one primitive, `run(argv, env, timeout, input)`, as each of testinfra's
backends has; everything else an implementation does on its host (a temporary
directory, a shell script, removing a tree with whatever is mounted below it, writing
a file) is derived from it here, once, so an implementation's code is the same on
this machine and in a VM.
"""
from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass

DEFAULT_TIMEOUT = 30  # seconds


@dataclass(frozen=True)
class CommandResult:
    rc: int
    stdout: str
    stderr: str

    @property
    def succeeded(self) -> bool:
        return self.rc == 0


class HostError(RuntimeError):
    """A host primitive that must succeed did not."""


_testinfra_hosts: dict[str, object] = {}


def testinfra_host(url: str):
    """This process's testinfra host for `url` (one connection per process and URL)."""
    if url not in _testinfra_hosts:
        import testinfra
        _testinfra_hosts[url] = testinfra.get_host(url)
    return _testinfra_hosts[url]


def forget(url: str):
    """This process's testinfra host for `url`, no longer cached (to close it); or None."""
    return _testinfra_hosts.pop(url, None)


@dataclass(frozen=True)
class Host:
    url: str

    # -- the one primitive ---------------------------------------------------------
    def run(self, argv, env: dict[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT,
            input: str | bytes | None = None) -> CommandResult:
        raise NotImplementedError

    # -- derived -------------------------------------------------------------------
    @property
    def is_local(self) -> bool:
        return False

    def testinfra(self):
        """The testinfra host the suite's Cli runs check commands through."""
        return testinfra_host(self.url)

    def has_program(self, name: str) -> bool:
        """Whether `name` can be run here (a host over SSH: its probe says)."""
        return True

    def shell(self, script: str, env: dict[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT,
              input: str | bytes | None = None) -> CommandResult:
        return self.run(("sh", "-c", script), env=env, timeout=timeout, input=input)

    def check(self, script: str, timeout: float = DEFAULT_TIMEOUT, **kwargs) -> str:
        """A shell script's stdout; HostError when it fails."""
        out = self.shell(script, timeout=timeout, **kwargs)
        if out.rc != 0:
            raise HostError(f"on {self.url}: {script!r} exited {out.rc}: {(out.stderr or out.stdout).strip()}")
        return out.stdout

    def make_temp_dir(self, label: str) -> str:
        """A new directory /tmp/<label>-XXXXXX (the leak check finds what is left of it)."""
        return self.check(f"mktemp -d /tmp/{shlex.quote(label)}-XXXXXX").strip()

    def exists(self, path: str) -> bool:
        return self.shell(f"test -e {shlex.quote(str(path))}").rc == 0

    def write_text(self, path: str, text: str) -> None:
        """Write `path` (and its directory) atomically, unless it already holds `text`: a
        reader never sees half a file, and an unchanged file is left as it is."""
        path = str(path)
        partial = shlex.quote(f"{os.path.dirname(path)}/.{os.path.basename(path)}.") + "$$"
        self.check(f"mkdir -p {shlex.quote(os.path.dirname(path))} && cat > {partial} && "
                   f"if cmp -s {partial} {shlex.quote(path)}; then rm -f {partial}; "
                   f"else mv -f {partial} {shlex.quote(path)}; fi", input=text)

    def remove_tree(self, root: str) -> None:
        """Unmount whatever is mounted at or below `root` (deepest first), then remove it."""
        quoted = shlex.quote(str(root))
        self.shell(f"awk -v root={quoted} 'index($2, root) == 1 {{print $2}}' /proc/self/mounts "
                   f"| sort -r | xargs -r -n1 umount -l; rm -rf {quoted}", timeout=300)


@dataclass(frozen=True)
class Local(Host):
    """This machine (subprocess)."""
    url: str = "local://"

    @property
    def is_local(self) -> bool:
        return True

    def has_program(self, name: str) -> bool:
        import shutil
        return shutil.which(name) is not None or os.path.exists(name)

    def run(self, argv, env=None, timeout=DEFAULT_TIMEOUT, input=None) -> CommandResult:
        """Raises subprocess.TimeoutExpired when `timeout` passes."""
        binary = isinstance(input, bytes)
        out = subprocess.run([str(a) for a in argv], env={**os.environ, **(env or {})}, input=input,
                             capture_output=True, text=not binary, timeout=timeout,
                             stdin=subprocess.DEVNULL if input is None else None)
        if binary:
            return CommandResult(out.returncode, out.stdout.decode(errors="replace"),
                                 out.stderr.decode(errors="replace"))
        return CommandResult(out.returncode, out.stdout, out.stderr)


@dataclass(frozen=True)
class Testinfra(Host):
    """A testinfra host (``paramiko://…``: a VM over SSH), as conformance/remote.py bridges it.
    A command that outlives `timeout` ends with exit code 124 (coreutils' timeout)."""

    def run(self, argv, env=None, timeout=DEFAULT_TIMEOUT, input=None) -> CommandResult:
        command = shlex.join(str(a) for a in argv)
        if input is not None:
            text = input.decode() if isinstance(input, bytes) else input
            script = 'printf %s "$0" | ' + command
            command = f"sh -c {shlex.quote(script)} {shlex.quote(text)}"
        envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted((env or {}).items()))
        out = self.testinfra().run(f"env {envs} timeout -k 5 {int(timeout)} {command}")
        return CommandResult(out.rc, out.stdout, out.stderr)


LOCAL = Local()


def from_url(url: str) -> Host:
    return LOCAL if url == "local://" else Testinfra(url)
