"""Container verbs: run, create, start, stop, kill, restart, wait, rm, ps, logs, top, diff,
commit, exec, port."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from reference_impl import humanize, images, layers, refs, runtime
from reference_impl.cli import ports
from reference_impl.network.settings import network_settings, published_ports
from reference_impl.cli import output
from reference_impl.cli.filters import parse_filters
from reference_impl.confinement import Confinement, SettingsError, flags
from reference_impl.errors import Conflict, EngineError, InvalidInput, NotFound
from reference_impl.store import Container, Store


def register(verbs, management: bool = False) -> None:
    for verb in ("run", "create"):
        p = verbs.add_parser(verb, help=f"{verb} a container")
        if verb == "run":
            p.add_argument("-d", "--detach", action="store_true")
        p.add_argument("-i", "--interactive", action="store_true")
        p.add_argument("-t", "--tty", action="store_true")
        p.add_argument("--name")
        p.add_argument("--rm", action="store_true")
        p.add_argument("-e", "--env", action="append", default=[])
        p.add_argument("-w", "--workdir")
        p.add_argument("-u", "--user")
        p.add_argument("--entrypoint")
        p.add_argument("-l", "--label", action="append", default=[])
        p.add_argument("-p", "--publish", action="append", default=[])
        p.add_argument("-P", "--publish-all", action="store_true")
        p.add_argument("--expose", action="append", default=[])
        _confinement_flags(p)
        p.add_argument("image")
        p.add_argument("command", nargs=argparse.REMAINDER)
        p.set_defaults(handler=cmd_run if verb == "run" else cmd_create)

    p = verbs.add_parser("start", help="start stopped containers")
    p.add_argument("-a", "--attach", action="store_true")
    p.add_argument("-i", "--interactive", action="store_true")
    p.add_argument("containers", nargs="+")
    p.set_defaults(handler=cmd_start)

    for verb, handler in (("stop", cmd_stop), ("restart", cmd_restart)):
        p = verbs.add_parser(verb, help=f"{verb} running containers")
        p.add_argument("-t", "--time", type=int, default=10)
        p.add_argument("containers", nargs="+")
        p.set_defaults(handler=handler)

    p = verbs.add_parser("kill", help="kill running containers")
    p.add_argument("-s", "--signal", default="KILL")
    p.add_argument("containers", nargs="+")
    p.set_defaults(handler=cmd_kill)

    p = verbs.add_parser("wait", help="wait for containers to stop, print their exit codes")
    p.add_argument("containers", nargs="+")
    p.set_defaults(handler=cmd_wait)

    p = verbs.add_parser("rm", help="remove containers")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("-v", "--volumes", action="store_true")
    p.add_argument("containers", nargs="+")
    p.set_defaults(handler=cmd_rm)

    names = ("ls", "list", "ps") if management else ("ps",)
    for verb in names:
        p = verbs.add_parser(verb, help="list containers")
        p.add_argument("-a", "--all", action="store_true")
        p.add_argument("-q", "--quiet", action="store_true")
        p.add_argument("-l", "--latest", action="store_true")
        p.add_argument("-n", "--last", type=int, default=-1)
        p.add_argument("-s", "--size", action="store_true")
        p.add_argument("--no-trunc", action="store_true")
        p.add_argument("-f", "--filter", action="append", default=[])
        p.add_argument("--format")
        p.set_defaults(handler=cmd_ps)

    p = verbs.add_parser("logs", help="fetch a container's logs")
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("-t", "--timestamps", action="store_true")
    p.add_argument("--tail", default="all")
    p.add_argument("container")
    p.set_defaults(handler=cmd_logs)

    p = verbs.add_parser("top", help="display a container's processes")
    p.add_argument("container")
    p.add_argument("ps_args", nargs=argparse.REMAINDER)
    p.set_defaults(handler=cmd_top)

    p = verbs.add_parser("diff", help="changes to a container's filesystem")
    p.add_argument("container")
    p.set_defaults(handler=cmd_diff)

    p = verbs.add_parser("commit", help="create an image from a container's changes")
    p.add_argument("-a", "--author", default="")
    p.add_argument("-m", "--message", default="")
    p.add_argument("-c", "--change", action="append", default=[])
    p.add_argument("-p", "--pause", type=lambda t: t.lower() != "false", default=True)
    p.add_argument("container")
    p.add_argument("reference", nargs="?")
    p.set_defaults(handler=cmd_commit)

    p = verbs.add_parser("exec", help="run a command in a running container")
    p.add_argument("-d", "--detach", action="store_true")
    p.add_argument("-i", "--interactive", action="store_true")
    p.add_argument("-t", "--tty", action="store_true")
    p.add_argument("-e", "--env", action="append", default=[])
    p.add_argument("-w", "--workdir")
    p.add_argument("-u", "--user")
    p.add_argument("container")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(handler=cmd_exec)

    p = verbs.add_parser("port", help="list a container's port mappings")
    p.add_argument("container")
    p.add_argument("port", nargs="?")
    p.set_defaults(handler=cmd_port)

    if management:
        p = verbs.add_parser("prune", help="remove all stopped containers")
        p.add_argument("-f", "--force", action="store_true")
        p.add_argument("--filter", action="append", default=[])
        p.set_defaults(handler=cmd_container_prune)

        p = verbs.add_parser("inspect", help="inspect containers")
        p.add_argument("-f", "--format")
        p.add_argument("-s", "--size", action="store_true")
        p.add_argument("names", nargs="+")
        p.set_defaults(handler=_inspect_containers)


def cmd_container_prune(store: Store, args) -> int:
    from reference_impl.cli.images import confirmed
    if not confirmed(args, "WARNING! This will remove all stopped containers."):
        return 0
    removed = []
    for container in store.containers.all():
        if not container.running and not container.starting:
            runtime.remove(store, container)
            removed.append(container.id)
    if removed:
        print("Deleted Containers:")
        for cid in removed:
            print(cid)
        print()
    print("Total reclaimed space: 0B")
    return 0


def _inspect_containers(store: Store, args) -> int:
    from reference_impl.cli.images import cmd_inspect
    args.type = "container"
    return cmd_inspect(store, args)


# --- run / create / start ------------------------------------------------------------------------

def _labels(specs: list[str]) -> dict[str, str]:
    labels = {}
    for spec in specs:
        key, _, value = spec.partition("=")
        labels[key] = value
    return labels


def _confinement_flags(p) -> None:
    p.add_argument("--privileged", action="store_true")
    p.add_argument("--read-only", action="store_true")
    p.add_argument("--cap-add", action="append", default=[])
    p.add_argument("--cap-drop", action="append", default=[])
    p.add_argument("--security-opt", action="append", default=[])
    p.add_argument("-m", "--memory")
    p.add_argument("--memory-swap")
    p.add_argument("--cpus")
    p.add_argument("-c", "--cpu-shares", type=int, default=0)
    p.add_argument("--cpuset-cpus", default="")
    p.add_argument("--pids-limit", type=int)
    p.add_argument("--ulimit", action="append", default=[])


def _confinement(args) -> Confinement:
    """The flags as the docker CLI sends them (HostConfig fields), checked as dockerd checks them."""
    try:
        cap_add, cap_drop = flags.capabilities(args.cap_add, args.cap_drop)
        host = {"Privileged": args.privileged, "ReadonlyRootfs": args.read_only, "CapAdd": cap_add,
                "CapDrop": cap_drop, "SecurityOpt": flags.security_opts(args.security_opt),
                "Memory": flags.ram_in_bytes(args.memory, "-m, --memory") if args.memory else 0,
                "MemorySwap": flags.memory_swap(args.memory_swap) if args.memory_swap else 0,
                "NanoCpus": flags.nano_cpus(args.cpus) if args.cpus else 0, "CpuShares": args.cpu_shares,
                "CpusetCpus": args.cpuset_cpus, "PidsLimit": args.pids_limit,
                "Ulimits": [flags.ulimit(u) for u in args.ulimit]}
    except flags.FlagError as exc:
        raise InvalidInput(str(exc)) from None
    try:
        settings = Confinement.from_host_config(host)
    except SettingsError as exc:
        raise EngineError(str(exc)) from None
    for warning in settings.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    return settings


def _create(store: Store, args, pulled: bool = False) -> Container:
    exposed, port_bindings = ports.parse_publish(args.publish)
    exposed += [p for p in ports.parse_expose(args.expose) if p not in exposed]
    entrypoint = None
    if args.entrypoint is not None:
        entrypoint = [args.entrypoint] if args.entrypoint else []
    try:
        refs.parse(args.image) if not refs.ID_PREFIX.match(args.image) else None
    except InvalidInput:
        raise InvalidInput(f"invalid reference format") from None
    confinement = _confinement(args)
    try:
        return runtime.create(store, args.image, name=args.name, cmd=args.command,
                              starting=getattr(args, "detach", None) is not None,
                              entrypoint=entrypoint, env=args.env, workdir=args.workdir, user=args.user,
                              tty=args.tty, stdin_open=args.interactive, auto_remove=args.rm,
                              labels=_labels(args.label), exposed=exposed,
                              port_bindings=port_bindings, publish_all=args.publish_all,
                              confinement=confinement)
    except NotFound as exc:
        if pulled or not exc.message.startswith("No such image"):
            raise
    from reference_impl.cli.registry import pull_for_run
    pull_for_run(store, args.image)
    return _create(store, args, pulled=True)


def cmd_create(store: Store, args) -> int:
    container = _create(store, args)
    print(container.id)
    return 0


def cmd_run(store: Store, args) -> int:
    container = _create(store, args)
    if args.detach:
        runtime.start(store, container)
        print(container.id)
        return 0
    try:
        code = runtime.start(store, container, attach=True, stdin=args.interactive)
    except EngineError:
        if args.rm:
            try:
                runtime.remove(store, store.containers.get(container.id), force=True)
            except NotFound:  # the shim removed it already (--rm after a failed start)
                pass
        raise
    if args.rm:
        runtime.wait(store, container)
    return code or 0


def cmd_start(store: Store, args) -> int:
    failed = False
    for name in args.containers:
        try:
            container = store.containers.resolve(name)
            if args.attach:
                return runtime.start(store, container, attach=True, stdin=args.interactive) or 0
            runtime.start(store, container)
            print(name)
        except EngineError as exc:
            failed = True
            print(str(exc), file=sys.stderr)
    return 1 if failed else 0


def _each(store: Store, names: list[str], action) -> int:
    failed = False
    for name in names:
        try:
            action(store.containers.resolve(name))
            print(name)
        except EngineError as exc:
            failed = True
            print(str(exc), file=sys.stderr)
    return 1 if failed else 0


def cmd_stop(store: Store, args) -> int:
    return _each(store, args.containers, lambda c: runtime.stop(store, c, args.time))


def cmd_restart(store: Store, args) -> int:
    def restart(c: Container) -> None:
        runtime.stop(store, c, args.time)
        runtime.start(store, store.containers.get(c.id))
    return _each(store, args.containers, restart)


def cmd_kill(store: Store, args) -> int:
    sig = runtime._signal_number(args.signal)
    return _each(store, args.containers, lambda c: runtime.kill(c, sig))


def cmd_wait(store: Store, args) -> int:
    failed = False
    for name in args.containers:
        try:
            print(runtime.wait(store, store.containers.resolve(name)), flush=True)
        except EngineError as exc:
            failed = True
            print(str(exc), file=sys.stderr)
    return 1 if failed else 0


def cmd_rm(store: Store, args) -> int:
    return _each(store, args.containers, lambda c: runtime.remove(store, c, args.force))


# --- ps / inspect ----------------------------------------------------------------------------------

def _command_text(container: Container) -> str:
    return " ".join([container.config["Path"], *container.config["Args"]])


def _status_text(container: Container) -> str:
    state = container.state
    if container.running:
        return "Up " + humanize.duration(time.time() - humanize.parse_rfc3339(state.get("StartedAt", "")))
    if container.status == "exited" and state.get("FinishedAt", "").startswith("0001") is False \
            and state.get("FinishedAt"):
        return (f"Exited ({state.get('ExitCode', 0)}) "
                + humanize.ago(state.get("FinishedAt", "")))
    return "Created"


def ps_record(container: Container, no_trunc: bool) -> dict:
    command = _command_text(container)
    if not no_trunc and len(command) > 20:
        command = command[:19] + "…"
    return {
        "ID": container.id if no_trunc else container.short_id,
        "Image": container.config.get("ImageName", ""),
        "Command": json.dumps(command, ensure_ascii=False),
        "CreatedAt": container.config.get("Created", ""),
        "RunningFor": humanize.ago(container.config.get("Created", "")),
        "Ports": ports.displayable_ports(published_ports(container)),
        "State": "running" if container.running else container.status,
        "Status": _status_text(container),
        "Names": container.name,
        "Labels": ",".join(f"{k}={v}" for k, v in sorted((container.config["Config"].get("Labels") or {}).items())),
        "Size": "0B",
        "Mounts": "",
        "Networks": "",
    }


PS_COLUMNS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "RunningFor": "CREATED",
              "Status": "STATUS", "Ports": "PORTS", "Names": "NAMES", "CreatedAt": "CREATED AT",
              "State": "STATE", "Labels": "LABELS", "Size": "SIZE", "Mounts": "MOUNTS",
              "Networks": "NETWORKS"}


def _ps_filter(store: Store, container: Container, filters: dict[str, list[str]]) -> bool:
    labels = container.config["Config"].get("Labels") or {}
    for spec in filters.get("label", []):
        key, eq, value = spec.partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    if "name" in filters and not any(_name_matches(f, container.name) for f in filters["name"]):
        return False
    if "id" in filters and not any(container.id.startswith(f) for f in filters["id"]):
        return False
    if "status" in filters:
        status = "running" if container.running else container.status
        if status not in filters["status"]:
            return False
    if "ancestor" in filters:
        wanted = set()
        for text in filters["ancestor"]:
            try:
                wanted.add(store.images.resolve(text))
            except EngineError:
                continue
        image_id = container.config.get("Image")
        chain = set()
        while image_id and image_id not in chain:
            chain.add(image_id)
            try:
                image_id = store.images.get(image_id).parent
            except EngineError:
                break
        if not wanted & chain:
            return False
    return True


def _name_matches(pattern: str, name: str) -> bool:
    """dockerd's name filter: a regular expression, tried on "/name" and on "name"."""
    import re
    try:
        return any(re.search(pattern, n) for n in ("/" + name, name))
    except re.error:
        return pattern.lstrip("/") in name


def cmd_ps(store: Store, args) -> int:
    filters = parse_filters(args.filter, {"label", "name", "id", "status", "ancestor", "exited",
                                          "before", "since"})
    containers = [c for c in store.containers.all() if _ps_filter(store, c, filters)]
    show_all = args.all or args.latest or args.last > 0 or "status" in filters
    if not show_all:
        containers = [c for c in containers if c.running]
    if args.latest:
        containers = containers[:1]
    elif args.last > 0:
        containers = containers[:args.last]
    records = [ps_record(c, args.no_trunc) for c in containers]
    if args.quiet:
        for r in records:
            print(r["ID"])
    elif args.format:
        output.formatted(args.format, records, PS_COLUMNS)
    else:
        cols = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"]
        output.table([PS_COLUMNS[c] for c in cols], [[r[c] for c in cols] for r in records])
    return 0


def container_inspect(store: Store, container: Container) -> dict:
    state = container.state
    running = container.running
    status = "running" if running else container.status
    config = container.config
    return {
        "Id": container.id,
        "Created": config.get("Created", ""),
        "Path": config["Path"],
        "Args": config["Args"],
        "State": {"Status": status, "Running": running, "Paused": False, "Restarting": False,
                  "OOMKilled": bool(state.get("OOMKilled")), "Dead": False, "Pid": state.get("Pid", 0) if running else 0,
                  "ExitCode": state.get("ExitCode", 0), "Error": state.get("Error", ""),
                  "StartedAt": state.get("StartedAt") or "0001-01-01T00:00:00Z",
                  "FinishedAt": state.get("FinishedAt") or "0001-01-01T00:00:00Z"},
        "Image": config["Image"],
        "ResolvConfPath": str(container.dir / "resolv.conf"),
        "HostnamePath": str(container.dir / "hostname"),
        "HostsPath": str(container.dir / "hosts"),
        "LogPath": str(container.log_path),
        "Name": "/" + container.name,
        "RestartCount": 0,
        "Driver": "overlay2",
        "Platform": "linux",
        "HostConfig": {"AutoRemove": config["HostConfig"].get("AutoRemove", False),
                       "PortBindings": config["HostConfig"].get("PortBindings") or {},
                       "PublishAllPorts": config["HostConfig"].get("PublishAllPorts", False),
                       "NetworkMode": "default",
                       **runtime.settings_of(container).host_config()},
        "GraphDriver": {"Data": {"UpperDir": str(container.upper), "WorkDir": str(container.dir / "work"),
                                 "MergedDir": str(container.dir / "merged")}, "Name": "overlay2"},
        "Mounts": [],
        "Config": config["Config"],
        "NetworkSettings": network_settings(container),
    }


# --- logs / top / diff / exec / port -------------------------------------------------------------------

def cmd_logs(store: Store, args) -> int:
    container = store.containers.resolve(args.container)
    position = 0
    while True:
        try:
            with open(container.log_path, "rb") as f:
                f.seek(position)
                data = f.read()
        except FileNotFoundError:
            data = b""
        complete = data[:data.rfind(b"\n") + 1]
        position += len(complete)
        for line in complete.splitlines():
            record = json.loads(line)
            stream = sys.stdout if record["stream"] == "stdout" else sys.stderr
            text = record["log"]
            stream.write(f"{record['time']} {text}" if args.timestamps else text)
        sys.stdout.flush()
        sys.stderr.flush()
        if not args.follow or not store.containers.get(container.id).running:
            if args.follow and data[len(complete):]:
                continue
            return 0
        time.sleep(0.05)


def cmd_top(store: Store, args) -> int:
    container = store.containers.resolve(args.container)
    if not container.running:
        raise Conflict(f"Container {container.id} is not running")
    pids = set(runtime.processes_of(container))
    ps_args = args.ps_args or ["-ef"]
    out = subprocess.run(["ps", *ps_args], capture_output=True, text=True).stdout.splitlines()
    header = out[0].split()
    pid_col = header.index("PID")
    rows = [line for line in out[1:] if int(line.split()[pid_col]) in pids]
    cells = [header] + [line.split(None, len(header) - 1) for line in rows]
    sys.stdout.write(output_top(cells))
    return 0


def output_top(cells: list[list[str]]) -> str:
    from reference_impl import gotemplate
    return gotemplate.tabulate(cells)


def cmd_diff(store: Store, args) -> int:
    container = store.containers.resolve(args.container)
    lowers = [store.images.layer_diff_dir(d) for d in reversed(container.config["Layers"])]
    for kind, path in layers.changes(container.upper, lowers):
        print(f"{kind} {path}")
    return 0


def cmd_commit(store: Store, args) -> int:
    container = store.containers.resolve(args.container)
    print(commit(store, container, args.reference, args.author, args.message, args.change))
    return 0


def commit(store: Store, container: Container, reference: str | None, author: str, message: str,
           change: list[str]) -> str:
    """An image of the container's changes (tagged reference, if given); returns its id."""
    ref = refs.parse_tagged(reference) if reference else None
    image = store.images.get(container.config["Image"]) if _image_exists(store, container) else None
    base_config = image.config if image else {"rootfs": {"diff_ids": container.config["Layers"]},
                                               "history": []}
    layer = images.layer_from_directory(container.upper, store.images.tmp_dir)
    diff_id = layer.diff_id if layer else None
    created = humanize.now_rfc3339()
    config = images.apply_changes(container.config["Config"], change)
    history = list(base_config.get("history") or []) + [images.history_entry(
        created, " ".join(container.config["Config"].get("Cmd") or []),
        comment=message, author=author, empty_layer=diff_id is None)]
    diff_ids = [*container.config["Layers"], *([diff_id] if diff_id else [])]
    new = images.new_config(config, diff_ids, history, created=created,
                            container=container.id, container_config=container.config["Config"],
                            author=author, comment=message)
    image_id = images.put_with_layer(store, new, container.config["Image"], layer)
    if ref is not None:
        with store.lock():
            images.tag(store, image_id, ref)
    return image_id


def _image_exists(store: Store, container: Container) -> bool:
    try:
        store.images.get(container.config["Image"])
        return True
    except NotFound:
        return False


def cmd_exec(store: Store, args) -> int:
    container = store.containers.resolve(args.container)
    if not args.command:
        raise InvalidInput("exec requires at least 2 arguments")
    return runtime.exec_in(container, args.command, env=args.env, workdir=args.workdir, user=args.user,
                           tty=args.tty, detach=args.detach)


def cmd_port(store: Store, args) -> int:
    container = store.containers.resolve(args.container)
    for line in ports.port_lines(published_ports(container), args.port, args.container):
        print(line)
    return 0

