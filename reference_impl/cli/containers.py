"""Container verbs: run, create, start, stop, kill, restart, wait, rm, ps, logs, top, diff,
commit, exec, port."""
from __future__ import annotations

import argparse
import json
import sys

from reference_impl import humanize, refs
from reference_impl.cli import attaching, lifecycle, mounts, network_flags, output, ports
from reference_impl.cli.errors import words
from reference_impl.cli.filters import parse_filters
from reference_impl.confinement import Confinement, SettingsError, flags
from reference_impl.engine.containers import ContainerService
from reference_impl.lifecycle import detach_keys
from reference_impl.engine.records.containers import CreateOptions, ExecOptions, HostConfig
from reference_impl.errors import EngineError, InvalidInput, NotFound
from reference_impl.store import Store


def register(verbs, management: bool = False) -> None:
    for verb in ("run", "create"):
        p = verbs.add_parser(verb, help=f"{verb} a container")
        if verb == "run":
            p.add_argument("-d", "--detach", action="store_true")
            attaching.add_sig_proxy(p)
            p.add_argument("--detach-keys", default="")
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
        lifecycle.add_flags(p)
        mounts.add_flags(p)
        network_flags.add_flags(p)
        p.add_argument("image")
        p.add_argument("command", nargs=argparse.REMAINDER)
        p.set_defaults(handler=cmd_run if verb == "run" else cmd_create)

    p = verbs.add_parser("start", help="start stopped containers")
    p.add_argument("-a", "--attach", action="store_true")
    p.add_argument("-i", "--interactive", action="store_true")
    p.add_argument("--detach-keys", default="")
    p.add_argument("containers", nargs="+")
    p.set_defaults(handler=cmd_start)

    for verb, handler in (("stop", cmd_stop), ("restart", cmd_restart)):
        p = verbs.add_parser(verb, help=f"{verb} running containers")
        p.add_argument("-t", "--time", type=int)
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
    p.add_argument("-n", "--tail", default="all")
    p.add_argument("--since")
    p.add_argument("--until")
    p.add_argument("container")
    p.set_defaults(handler=cmd_logs)

    p = verbs.add_parser("stats", help="display containers' resource usage")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("--no-stream", action="store_true")
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("--format")
    p.add_argument("containers", nargs="*")
    p.set_defaults(handler=cmd_stats)

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
    p.add_argument("--env-file", action="append", default=[])
    p.add_argument("--detach-keys", default="")
    p.add_argument("-w", "--workdir")
    p.add_argument("-u", "--user")
    p.add_argument("container")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(handler=cmd_exec)

    lifecycle.register(verbs)
    attaching.register(verbs)

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
    filters = parse_filters(args.filter)
    if not confirmed(args.force, "WARNING! This will remove all stopped containers."):
        return 0
    report = ContainerService(store).prune(filters)
    output.prune_report("Containers", report.deleted, report.space_reclaimed)
    return 0


def _inspect_containers(store: Store, args) -> int:
    from reference_impl.cli.images import inspect_objects
    return inspect_objects(store, args.names, "container", args.format, args.size)


# --- run / create / start ------------------------------------------------------------------------

def _labels(specs: list[str]) -> dict[str, str]:
    labels = {}
    for spec in specs:
        key, _, value = spec.partition("=")
        if not key:
            raise InvalidInput(f'invalid argument "{spec}" for "-l, --label" flag: invalid label \'{spec}\': '
                               "empty name")
        labels[key] = value
    return labels


def _env(items: list[str]) -> list[str]:
    for item in items:
        if item.startswith("="):
            raise InvalidInput(f'invalid argument "{item}" for "-e, --env" flag: invalid environment '
                               f"variable: {item}")
    return items


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


def create_options(args, starting: bool) -> CreateOptions:
    """run/create flags as the engine's options."""
    exposed, port_bindings = ports.parse_publish(args.publish)
    exposed += [p for p in ports.parse_expose(args.expose) if p not in exposed]
    entrypoint = None
    if args.entrypoint is not None:
        entrypoint = [args.entrypoint] if args.entrypoint else []
    if not refs.ID_PREFIX.match(args.image):  # the reference is checked before the flags
        try:
            refs.parse(args.image)
        except InvalidInput:
            raise InvalidInput("invalid reference format") from None
    confinement = _confinement(args)
    return CreateOptions(image=args.image, name=args.name, cmd=args.command, entrypoint=entrypoint,
                         env=_env(args.env), workdir=args.workdir, user=args.user, tty=args.tty,
                         stdin_open=args.interactive, labels=_labels(args.label), exposed=exposed,
                         host=HostConfig(auto_remove=args.rm, port_bindings=port_bindings,
                                         publish_all=args.publish_all, confinement=confinement,
                                         storage=mounts.storage(args)),
                         networking=network_flags.networking_options(args), starting=starting,
                         lifecycle=lifecycle.options(args, auto_remove=args.rm))


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_create(store: Store, args) -> int:
    print(ContainerService(store).create(create_options(args, starting=False), on_pull=_to_stderr).id)
    return 0


def cmd_run(store: Store, args) -> int:
    attaching.require_terminal_input(args.tty and args.interactive and not args.detach)
    service = ContainerService(store)
    container = service.create(create_options(args, starting=True), on_pull=_to_stderr)
    if args.detach:
        service.start(container.id)
        print(container.id)
        return 0
    try:
        with attaching.signal_proxy(service, container.id, args.sig_proxy and not args.tty), \
                attaching.window_size_follower(service, container.id, args.tty):
            code = service.start(container.id, attach=True, stdin=args.interactive,
                                 detach_keys=detach_keys.parse(args.detach_keys))
    except EngineError:
        if args.rm:
            try:
                service.remove(container.id, force=True, volumes=True)  # --rm takes its anonymous volumes
            except NotFound:  # the shim removed it already (--rm after a failed start)
                pass
        raise
    if code is None:  # detached with the keys: it runs on (and --rm removes it at its exit)
        return 0
    if args.rm:
        service.wait_for(container)
    return code


def cmd_start(store: Store, args) -> int:
    failed = False
    service = ContainerService(store)
    for name in args.containers:
        try:
            if args.attach:
                container = service.get(name)
                if container.running:  # docker start -a of a running container attaches to it
                    code = attaching.attach_running(service, container, with_stdin=args.interactive,
                                                    keys=args.detach_keys, sig_proxy=True)
                else:
                    code = service.start(name, attach=True, stdin=args.interactive,
                                         detach_keys=detach_keys.parse(args.detach_keys))
                return code or 0
            service.start(name)
            print(name)
        except EngineError as exc:
            failed = True
            print(words(exc), file=sys.stderr)
    return 1 if failed else 0


def _each(names: list[str], action, shown=lambda name, result: name) -> int:
    """Docker's multi-container verbs: a line for each one done, the error of each one not."""
    failed = False
    for name in names:
        try:
            print(shown(name, action(name)), flush=True)
        except EngineError as exc:
            failed = True
            print(words(exc), file=sys.stderr)
    return 1 if failed else 0


def cmd_stop(store: Store, args) -> int:
    return _each(args.containers, lambda name: ContainerService(store).stop(name, args.time))


def cmd_restart(store: Store, args) -> int:
    return _each(args.containers, lambda name: ContainerService(store).restart(name, args.time))


def cmd_kill(store: Store, args) -> int:
    from reference_impl.engine.containers import signal_number
    signal_number(args.signal)  # an unknown signal is refused before any container is touched
    return _each(args.containers, lambda name: ContainerService(store).kill(name, args.signal))


def cmd_wait(store: Store, args) -> int:
    return _each(args.containers, lambda name: ContainerService(store).wait(name),
                 shown=lambda name, code: code)


def cmd_rm(store: Store, args) -> int:
    return _each(args.containers, lambda name: ContainerService(store).remove(name, args.force, args.volumes))


# --- ps / inspect ----------------------------------------------------------------------------------

PS_COLUMNS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "RunningFor": "CREATED",
              "Status": "STATUS", "Ports": "PORTS", "Names": "NAMES", "CreatedAt": "CREATED AT",
              "State": "STATE", "Labels": "LABELS", "Size": "SIZE", "Mounts": "MOUNTS",
              "Networks": "NETWORKS"}


def ps_record(summary, no_trunc: bool) -> dict:
    command = summary.command
    if not no_trunc and len(command) > 20:
        command = command[:19] + "…"
    return {
        "ID": summary.id if no_trunc else summary.id[:12],
        "Image": summary.image,
        "Command": json.dumps(command, ensure_ascii=False),
        "CreatedAt": summary.created_at,
        "RunningFor": humanize.ago(summary.created_at),
        "Ports": ports.displayable_ports(summary.published),
        "State": summary.state,
        "Status": summary.status,
        "Names": ",".join(summary.names),
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(summary.labels.items())),
        "Size": _size_text(summary),
        "Mounts": "",
        "Networks": ",".join(sorted(summary.networks)),
    }


def _size_text(summary: ContainerSummary) -> str:
    """PS's SIZE: "3kB (virtual 1.99MB)"; "0B" when sizes were not asked for."""
    if summary.size_rw is None:
        return "0B"
    return f"{humanize.size(summary.size_rw)} (virtual {humanize.size(summary.size_root_fs)})"


def cmd_ps(store: Store, args) -> int:
    from reference_impl.engine.records.container_views import ContainerListOptions
    limit = 1 if args.latest else args.last
    # sizes cost a walk of each container's layer: asked by -s, or by a format that shows them
    sized = args.size or bool(args.format and ".Size" in args.format)
    options = ContainerListOptions(all=args.all, limit=limit, filters=parse_filters(args.filter), size=sized)
    records = [ps_record(s, args.no_trunc) for s in ContainerService(store).list(options)]
    if args.quiet:
        for r in records:
            print(r["ID"])
    elif args.format:
        output.formatted(args.format, records, PS_COLUMNS, go_type="*formatter.ContainerContext")
    else:
        cols = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"] + (["Size"] if sized else [])
        output.table([PS_COLUMNS[c] for c in cols], [[r[c] for c in cols] for r in records])
    return 0


# --- logs / top / diff / exec / port -------------------------------------------------------------------

def cmd_logs(store: Store, args) -> int:
    from reference_impl.engine.records.container_views import LogOptions
    from reference_impl.lifecycle import logtimes
    options = LogOptions(follow=args.follow, tail=logtimes.tail_count(args.tail),
                         since=logtimes.cli_time(args.since, "since") if args.since else None,
                         until=logtimes.cli_time(args.until, "until") if args.until else None)
    for record in ContainerService(store).follow_logs(args.container, options):
        stream = sys.stdout if record.stream == "stdout" else sys.stderr
        stream.write(f"{record.time} {record.text}" if args.timestamps else record.text)
        stream.flush()
    return 0


def cmd_stats(store: Store, args) -> int:
    from reference_impl.cli import stats
    return stats.cmd_stats(store, args)


def cmd_top(store: Store, args) -> int:
    from reference_impl import gotemplate
    top = ContainerService(store).top(args.container, args.ps_args)
    sys.stdout.write(gotemplate.tabulate([top.titles, *top.processes]))
    return 0


def cmd_diff(store: Store, args) -> int:
    for change in ContainerService(store).diff(args.container):
        print(f"{change.kind} {change.path}")
    return 0


def cmd_commit(store: Store, args) -> int:
    from reference_impl.engine.images import ImageService
    from reference_impl.engine.records.images import CommitOptions
    print(ImageService(store).commit(CommitOptions(container=args.container, reference=args.reference,
                                                   author=args.author, message=args.message,
                                                   changes=args.change, pause=args.pause)))
    return 0


def cmd_exec(store: Store, args) -> int:
    from reference_impl.lifecycle.envfile import read_env_files
    env = read_env_files(args.env_file) + args.env
    attaching.require_terminal_input(args.tty and args.interactive and not args.detach)
    keys = detach_keys.parse(args.detach_keys)
    with attaching.window_sizes(args.tty and not args.detach) as resizes:
        code = ContainerService(store).exec(ExecOptions(container=args.container, argv=args.command, env=env,
                                                        workdir=args.workdir, user=args.user, tty=args.tty,
                                                        detach=args.detach, interactive=args.interactive,
                                                        resizes=resizes, detach_keys=keys))
    if code is None:  # the detach keys: the command runs on
        print(detach_keys.DETACHED, file=sys.stderr)
        return 1
    return code


def cmd_port(store: Store, args) -> int:
    published = ContainerService(store).ports(args.container)
    for line in ports.port_lines(published, args.port, args.container):
        print(line)
    return 0
