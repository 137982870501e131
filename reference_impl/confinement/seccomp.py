"""The seccomp filter of a container: a profile in Docker's JSON format (by default the
one Debian's containers-common ships), compiled and loaded through libseccomp."""
from __future__ import annotations

import ctypes
import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path

from reference_impl import syscalls as sc

DEFAULT_PROFILE_PATH = "/usr/share/containers/seccomp.json"
UNCONFINED = "unconfined"

# Go's GOARCH names, as profiles' includes/excludes spell them, for this machine.
_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "armv7l": "arm", "ppc64le": "ppc64le",
           "s390x": "s390x", "riscv64": "riscv64"}
_NATIVE_SCMP_ARCH = {"amd64": "SCMP_ARCH_X86_64", "arm64": "SCMP_ARCH_AARCH64", "386": "SCMP_ARCH_X86",
                     "arm": "SCMP_ARCH_ARM", "ppc64le": "SCMP_ARCH_PPC64LE", "s390x": "SCMP_ARCH_S390X",
                     "riscv64": "SCMP_ARCH_RISCV64"}
_BINARY_TREE = 2  # SCMP_FLTATR_CTL_OPTIMIZE's level
_OPS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5,
        "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}


class ProfileError(ValueError):
    pass


# containers-common's profile lets any process create namespaces (podman relies on the
# capability checks); Docker's refuses it without CAP_SYS_ADMIN: unshare and setns fail
# with EPERM, clone with a CLONE_NEW* flag too, clone3 with ENOSYS (libc falls back to
# clone). The default profile gets these rules in place of its own for those four calls.
_NAMESPACE_CALLS = {"clone", "clone3", "unshare", "setns"}
_CLONE_NEW_FLAGS = 0x7E020000  # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
_NAMESPACE_RULES = [
    {"names": sorted(_NAMESPACE_CALLS), "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]},
     "args": [{"index": 0, "value": _CLONE_NEW_FLAGS, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSYS,
     "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["unshare", "setns"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM,
     "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
]


def default_profile_text() -> str:
    with open(DEFAULT_PROFILE_PATH) as f:
        return f.read()


@dataclass(frozen=True)
class Profile:
    """A profile as given, its JSON text: parsed only when its filter is not compiled yet
    (parsing and rewriting the default costs milliseconds on every container start)."""
    text: str
    docker_namespace_rules: bool = False  # the default: containers-common's, with Docker's rules

    @classmethod
    def default(cls) -> Profile:
        return cls(default_profile_text(), docker_namespace_rules=True)

    def rules(self) -> dict:
        profile = parse(self.text)
        if self.docker_namespace_rules:
            kept = []
            for rule in profile.get("syscalls") or []:
                names = [n for n in rule.get("names") or [] if n not in _NAMESPACE_CALLS]
                if names:
                    kept.append({**rule, "names": names})
            profile["syscalls"] = kept + _NAMESPACE_RULES
        return profile

    def cache_key(self, caps: list[str]) -> str:
        import hashlib
        added = _NAMESPACE_RULES if self.docker_namespace_rules else None
        return hashlib.sha256(json.dumps([self.text, added, sorted(caps), os.uname().machine, _BINARY_TREE],
                                         sort_keys=True).encode()).hexdigest()


def parse(text: str) -> dict:
    try:
        profile = json.loads(text)
    except ValueError as exc:
        raise ProfileError(f"decoding seccomp profile failed: {exc}") from None
    if not isinstance(profile, dict) or "defaultAction" not in profile:
        raise ProfileError("decoding seccomp profile failed: no defaultAction")
    return profile


def _kernel_at_least(version: str) -> bool:
    def numbers(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split("-")[0].split(".")[:2] if p.isdigit())
    return numbers(os.uname().release) >= numbers(version)


def _applies(rule: dict, caps: set[str], arch: str) -> bool:
    """Docker's includes/excludes: a rule for some capabilities, architectures, kernels."""
    inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
    if inc.get("arches") and arch not in inc["arches"]:
        return False
    if inc.get("caps") and not set(inc["caps"]) <= caps:
        return False
    if inc.get("minKernel") and not _kernel_at_least(inc["minKernel"]):
        return False
    if exc.get("arches") and arch in exc["arches"]:
        return False
    if exc.get("caps") and set(exc["caps"]) & caps:
        return False
    return True


def _action(lib, name: str, errno_ret: int | None, default_errno: int) -> int:
    if name == "SCMP_ACT_ALLOW":
        return lib.ALLOW
    if name == "SCMP_ACT_ERRNO":
        return lib.ERRNO(errno_ret if errno_ret is not None else default_errno)
    if name in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"):
        return lib.KILL_THREAD
    if name == "SCMP_ACT_KILL_PROCESS":
        return lib.KILL_PROCESS
    if name == "SCMP_ACT_TRAP":
        return lib.TRAP
    if name == "SCMP_ACT_LOG":
        return lib.LOG
    if name == "SCMP_ACT_TRACE":
        return lib.TRACE(errno_ret or 0)
    raise ProfileError(f"unknown seccomp action {name!r}")


def _arg_groups(lib, args: list[dict]) -> list[list]:
    """runc's reading of args: all in one rule (AND), unless one index repeats (one rule each)."""
    made = [lib.Arg(a["index"], _OPS[a["op"]], a["value"], a.get("valueTwo", 0)) for a in args]
    indexes = [a["index"] for a in args]
    if len(set(indexes)) != len(indexes):
        return [[m] for m in made]
    return [made]


def build_filter(profile: dict, caps: list[str]):
    """A libseccomp filter for `profile` as it applies to a process with `caps`."""
    try:  # loads libseccomp: only where a filter is built
        import pyseccomp as lib
    except ImportError:  # libseccomp's own binding, same API (Debian's python3-seccomp: the VM's engine)
        import seccomp as lib

    arch = _GOARCH.get(os.uname().machine, os.uname().machine)
    default_errno = profile.get("defaultErrnoRet", errno.EPERM)
    filt = lib.SyscallFilter(_action(lib, profile["defaultAction"], profile.get("defaultErrnoRet"),
                                     errno.EPERM))
    filt.set_attr(lib.Attr.CTL_NNP, 0)  # no_new_privs only when asked for (Docker shows NoNewPrivs: 0)
    try:  # a binary tree of syscall numbers: the same decisions, loaded in half the time (libseccomp >= 2.5)
        filt.set_attr(lib.Attr.CTL_OPTIMIZE, _BINARY_TREE)
    except (AttributeError, OSError, ValueError, RuntimeError):
        pass
    native = _NATIVE_SCMP_ARCH.get(arch)
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") == native:
            for sub in entry.get("subArchitectures") or []:
                value = getattr(lib.Arch, sub.removeprefix("SCMP_ARCH_"), None)
                if value is not None and not filt.exist_arch(value):
                    filt.add_arch(value)
    caps_set = set(caps)
    for rule in profile.get("syscalls") or []:
        if not _applies(rule, caps_set, arch):
            continue
        action = _action(lib, rule["action"], rule.get("errnoRet"), default_errno)
        names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
        for name in names:
            for args in _arg_groups(lib, rule.get("args") or []):
                try:
                    filt.add_rule(action, name, *args)
                except (OSError, ValueError, RuntimeError):
                    # a name this libseccomp does not know, or the default action again: runc skips it
                    continue
    return filt


def compiled(profile: Profile, caps: list[str], cache_dir: Path) -> bytes:
    """The filter as libseccomp compiles it (classic BPF), cached by profile text and
    capabilities: a container start then needs neither a parse, libseccomp's Python
    binding nor a compile."""
    import tempfile
    path = cache_dir / f"{profile.cache_key(caps)}.bpf"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=cache_dir, prefix=".partial-")
    try:
        with os.fdopen(fd, "w+b") as out:
            build_filter(profile.rules(), caps).export_bpf(out)
            out.seek(0)
            program = out.read()
        os.rename(partial, path)
    except BaseException:
        os.unlink(partial)
        raise
    return program


_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load(program: bytes) -> None:
    """Install a compiled filter on the calling thread (needs CAP_SYS_ADMIN or no_new_privs)."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))  # 8 bytes per sock_filter
    sc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog))
