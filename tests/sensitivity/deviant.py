#!/usr/bin/env python3
"""A docker CLI that deviates from Docker in one chosen way: ``deviant.py MODE ARGS...``.

Each mode is a plausible bug of a Docker-compatible engine. The sensitivity tests
run the suite's checks against these wrappers and require the check that names
the behaviour to fail.
"""
import json
import os
import re
import subprocess
import sys

DOCKER = os.environ.get("STRATA_DEVIANT_DOCKER", "docker")


def docker(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([DOCKER, *args], **kwargs)


def passthrough(args) -> None:
    os.execvp(DOCKER, [DOCKER, *args])


def filtered(args, keep) -> None:
    """Run docker, drop stdout lines for which keep(line) is false."""
    out = docker(*args, stdout=subprocess.PIPE, text=True)
    sys.stdout.write("".join(line for line in out.stdout.splitlines(True) if keep(line)))
    sys.exit(out.returncode)


def verb_index(args) -> int:
    """Index of the subcommand (the first word that is not a global option)."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in ("-H", "--host", "--config", "--context", "-l", "--log-level") else 1
    return i


def insert_after_verb(args, *extra) -> list[str]:
    i = verb_index(args)
    return [*args[: i + 1], *extra, *args[i + 1:]]


def rewrite_publish(args, rewrite) -> list[str]:
    out, i = [], 0
    while i < len(args):
        if args[i] in ("-p", "--publish") and i + 1 < len(args):
            out += [args[i], rewrite(args[i + 1])]
            i += 2
        else:
            out.append(args[i])
            i += 1
    return out


def drop_address(spec: str) -> str:
    parts = spec.split(":")
    return ":".join(parts[1:]) if len(parts) == 3 else spec


def wrong_container_port(spec: str) -> str:
    head, _, port = spec.rpartition(":")
    number, slash, proto = port.partition("/")
    shifted = str(int(number) + 1) if number.isdigit() else number
    return f"{head}{':' if head else ''}{shifted}{slash}{proto}"


def commit_whole_filesystem(args) -> None:
    """commit as export | import: one layer holding the container's whole filesystem."""
    i = verb_index(args)
    rest = [a for a in args[i + 1:] if not a.startswith("-")]
    container, repo = rest[0], rest[1] if len(rest) > 1 else ""
    labels = json.loads(docker("inspect", "--format", "{{json .Config.Labels}}", container,
                               capture_output=True, text=True).stdout or "null") or {}
    changes = [arg for key, value in labels.items() for arg in ("--change", f"LABEL {key}={value}")]
    export = subprocess.Popen([DOCKER, "export", container], stdout=subprocess.PIPE)
    imported = docker("import", *changes, "-", *([repo] if repo else []), stdin=export.stdout)
    export.wait()
    sys.exit(imported.returncode or export.returncode)


def keep_tag_on_rmi(args) -> None:
    """rmi that says it untagged but removes nothing."""
    i = verb_index(args)
    refs = [a for a in args[i + 1:] if not a.startswith("-")]
    for ref in refs:
        if docker("image", "inspect", ref, capture_output=True).returncode != 0:
            passthrough(args)
        print(f"Untagged: {ref if ':' in ref else ref + ':latest'}")
    sys.exit(0)


def rmi_any_tag(args) -> None:
    """rmi NAME without a tag removes whichever tag NAME has, instead of NAME:latest."""
    i = verb_index(args)
    fixed = list(args)
    for j in range(i + 1, len(args)):
        ref = args[j]
        if not ref.startswith("-") and ":" not in ref.rsplit("/", 1)[-1]:
            tags = docker("images", "--format", "{{.Repository}}:{{.Tag}}", ref,
                          capture_output=True, text=True).stdout.split()
            if tags:
                fixed[j] = tags[0]
    passthrough(fixed)


def drop_option(args, names) -> list[str]:
    """args without the options `names` and their values (a run's own command is kept)."""
    out, i, end = [], 0, len(args)
    while i < end:
        if args[i] in names and i + 1 < end:
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out


def positional_args(args, takes_value) -> list[int]:
    """Indexes of the verb's positional arguments (options in `takes_value` take a value)."""
    found, i = [], verb_index(args) + 1
    while i < len(args):
        if args[i].startswith("-"):
            i += 2 if args[i] in takes_value and "=" not in args[i] else 1
            continue
        found.append(i)
        i += 1
    return found


def images_ignore_reference(args) -> None:
    """images REPO[:TAG] lists every image (the reference argument is dropped)."""
    drop = set(positional_args(args, ("-f", "--filter", "--format")))
    passthrough([a for i, a in enumerate(args) if i not in drop])


def push_does_nothing(args) -> None:
    """push that says it pushed and sends nothing."""
    ref = args[positional_args(args, ())[0]]
    print(f"The push refers to repository [{ref.rsplit(':', 1)[0]}]")
    sys.exit(0)


def login_elsewhere(args) -> None:
    """login that stores its credentials in a config directory of its own, not the client's."""
    import tempfile
    os.execvp(DOCKER, [DOCKER, "--config", tempfile.mkdtemp(prefix="deviant-login-"), *args])


def _drop_filter(args, prefix) -> list[str]:
    """args without the --filter options whose value starts with `prefix`."""
    out, i = [], 0
    while i < len(args):
        if args[i] in ("-f", "--filter") and i + 1 < len(args) and args[i + 1].startswith(prefix):
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out


def prune_does_nothing(args) -> None:
    print("Total reclaimed space: 0B")
    sys.exit(0)


def rw_binds(args) -> list[str]:
    """-v SRC:DST:ro mounted read-write (the mode dropped)."""
    out = list(args)
    for i in range(len(out) - 1):
        if out[i] in ("-v", "--volume") and out[i + 1].endswith(":ro"):
            out[i + 1] = out[i + 1][:-3]
    return out


def main(argv) -> None:
    mode, args = argv[1], argv[2:]
    verb = args[verb_index(args)] if verb_index(args) < len(args) else ""
    if mode == "no-cache" and verb == "build":
        passthrough(insert_after_verb(args, "--no-cache"))
    if mode == "force-rmi" and verb == "rmi":
        passthrough(insert_after_verb(args, "-f"))
    if mode == "force-rm" and verb == "rm":
        passthrough(insert_after_verb(args, "-f"))
    if mode == "drop-publish-address" and verb in ("run", "create"):
        passthrough(rewrite_publish(args, drop_address))
    if mode == "wrong-container-port" and verb in ("run", "create"):
        passthrough(rewrite_publish(args, wrong_container_port))
    if mode == "hide-using-cache" and verb == "build":
        filtered(args, lambda line: "Using cache" not in line)
    if mode == "commit-whole-filesystem" and verb == "commit":
        commit_whole_filesystem(args)
    if mode == "keep-tag-on-rmi" and verb == "rmi":
        keep_tag_on_rmi(args)
    if mode == "diff-hides-deletes" and verb == "diff":
        filtered(args, lambda line: not line.startswith("D "))
    if mode == "port-any-address" and verb == "port":
        filtered_sub = docker(*args, stdout=subprocess.PIPE, text=True)
        sys.stdout.write(re.sub(r"127\.0\.0\.1", "0.0.0.0", filtered_sub.stdout))
        sys.exit(filtered_sub.returncode)
    if mode == "unconfined" and verb in ("run", "create"):
        passthrough(insert_after_verb(args, "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined"))
    if mode == "ignore-memory-limit" and verb in ("run", "create"):
        passthrough(drop_option(args, ("-m", "--memory", "--memory-swap")))
    if mode == "rmi-any-tag" and verb == "rmi":
        rmi_any_tag(args)
    if mode == "build-drops-build-args" and verb == "build":
        passthrough(drop_option(args, ("--build-arg",)))
    if mode == "images-ignore-reference" and verb == "images":
        images_ignore_reference(args)
    if mode == "history-hides-nop" and verb == "history":
        filtered(args, lambda line: "#(nop)" not in line)
    if mode == "push-does-nothing" and verb == "push":
        push_does_nothing(args)
    if mode == "login-elsewhere" and verb == "login":
        login_elsewhere(args)
    if mode == "prune-does-nothing" and verb == "image" and "prune" in args:
        prune_does_nothing(args)
    if mode == "ps-ignores-status-filter" and verb == "ps":
        passthrough(_drop_filter(args, "status="))
    if mode == "run-fixes-bad-env" and verb in ("run", "create"):
        passthrough([("FIXED" + a) if a.startswith("=") else a for a in args])
    if mode == "ro-bind-is-rw" and verb in ("run", "create"):
        passthrough(rw_binds(args))
    if mode == "cp-copies-nothing" and verb == "cp":
        sys.exit(0)
    if mode == "network-drops-alias" and verb in ("run", "create"):
        passthrough(drop_option(args, ("--network-alias", "--alias")))
    if mode == "kill-ignores-signal" and verb == "kill":
        passthrough(drop_option(args, ("-s", "--signal")))
    if mode == "exec-ignores-workdir" and verb == "exec":
        passthrough(drop_option(args, ("-w", "--workdir")))
    if mode == "logs-ignores-tail" and verb == "logs":
        passthrough(drop_option(args, ("-n", "--tail")))
    if mode == "attach-ignores-detach-keys" and verb == "attach":
        passthrough(drop_option(args, ("--detach-keys",)))
    passthrough(args)


if __name__ == "__main__":
    main(sys.argv)
