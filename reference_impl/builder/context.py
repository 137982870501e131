"""The build context: a directory (or a local git repository) sent as a tar, as the
docker CLI sends it, with `.dockerignore` applied (moby's patternmatcher rules:
`*`, `?`, `**`, `!` exceptions, the last matching pattern wins, a pattern that
matches a directory also matches everything in it)."""
from __future__ import annotations

import os
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

from reference_impl.errors import InvalidInput
from reference_impl.ownership import staging_prefix


def _pattern_regex(pattern: str) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i:i + 2] == "**":
                i += 2
                if pattern[i:i + 1] == "/":
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1:end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 1
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("^" + "".join(out) + "$")


class IgnoreRules:
    def __init__(self, lines: list[str]):
        self.rules: list[tuple[bool, re.Pattern]] = []
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:].strip()
            line = os.path.normpath(line).lstrip("/")
            if line == ".":
                continue
            self.rules.append((negate, _pattern_regex(line)))

    @classmethod
    def of(cls, directory: Path) -> "IgnoreRules":
        try:
            return cls((directory / ".dockerignore").read_text().splitlines())
        except FileNotFoundError:
            return cls([])

    def excluded(self, rel: str) -> bool:
        parents = []
        parts = rel.split("/")
        for n in range(1, len(parts)):
            parents.append("/".join(parts[:n]))
        result = False
        for negate, regex in self.rules:
            if regex.match(rel) or any(regex.match(p) for p in parents):
                result = not negate
        return result


def context_tar(directory: Path, out_path: Path, dockerfile: str) -> int:
    """Tar the context (minus ignored files; the Dockerfile and .dockerignore always go)."""
    rules = IgnoreRules.of(directory)
    keep = {dockerfile, ".dockerignore"}
    with tarfile.open(out_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk(directory):
            dirs.sort()
            rel_root = os.path.relpath(root, directory)
            for name in sorted(dirs) + sorted(files):
                rel = name if rel_root == "." else f"{rel_root}/{name}"
                if rules.excluded(rel) and rel not in keep:
                    continue
                info = tar.gettarinfo(os.path.join(root, name), arcname=rel)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                if info.isreg():
                    with open(os.path.join(root, name), "rb") as data:
                        tar.addfile(info, data)
                else:
                    tar.addfile(info)
    return out_path.stat().st_size


_GIT_URL = re.compile(r"^(?:git://|git@|github\.com/)|^https?://.*\.git(?:#.+)?$")


def is_git_source(source: str) -> bool:
    """The docker CLI's test (urlutil.IsGitURL)."""
    return bool(_GIT_URL.match(source))


def _git(*args: str, cwd: Path) -> None:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise InvalidInput(f"unable to prepare context: unable to 'git clone' to temporary context "
                           f"directory: error fetching: {result.stderr.strip()}: exit status "
                           f"{result.returncode}")


def checkout_git(source: str, work: Path) -> Path:
    """What the docker CLI does with a git URL: fetch `#ref` (default master) into a new
    repository, check it out, and send the work tree, .git included (`#ref:subdir` too)."""
    url, _, fragment = source.partition("#")
    ref, _, subdir = fragment.partition(":")
    target = work / "git"
    target.mkdir()
    _git("init", "-q", cwd=target)
    _git("remote", "add", "origin", url, cwd=target)
    _git("fetch", "-q", "origin", "--", ref or "master", cwd=target)
    _git("checkout", "-q", "FETCH_HEAD", cwd=target)
    _git("submodule", "update", "--init", "--recursive", "--depth=1", "-q", cwd=target)
    return target / subdir if subdir else target


def drop_build_files(directory: Path, dockerfile: str) -> None:
    """The Dockerfile and .dockerignore always travel with the context, but when
    .dockerignore lists them the daemon takes them out before any COPY sees them."""
    rules = IgnoreRules.of(directory)
    for rel in (dockerfile, ".dockerignore"):
        if not rel.startswith("..") and rules.excluded(rel):
            (directory / rel).unlink(missing_ok=True)


def unpack_context(tar_path: Path, destination: Path) -> None:
    from reference_impl import layers
    destination.mkdir(parents=True, exist_ok=True)
    layers.extract(tar_path, destination)


def new_workdir(tmp_root: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=tmp_root, prefix=staging_prefix("build-")))
