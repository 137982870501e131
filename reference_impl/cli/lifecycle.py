"""run/create flags of a container's life (--restart, --init, --group-add, --stop-signal,
--stop-timeout, --health-*), read as the docker CLI reads them; and the verbs pause,
unpause and rename."""
from __future__ import annotations

import sys

from reference_impl.cli.errors import words
from reference_impl.engine.containers import ContainerService
from reference_impl.errors import EngineError, InvalidInput
from reference_impl.lifecycle.logconfig import LogConfig
from reference_impl.lifecycle.logtimes import duration_ns
from reference_impl.lifecycle.restart import RestartPolicy
from reference_impl.lifecycle.settings import Healthcheck, LifecycleOptions
from reference_impl.store import Store

_HEALTH_DURATIONS = (("health_interval", "--health-interval"), ("health_timeout", "--health-timeout"),
                     ("health_start_period", "--health-start-period"))


def add_flags(p) -> None:
    p.add_argument("--restart", default="no")
    p.add_argument("--init", action="store_true")
    p.add_argument("--group-add", action="append", default=[])
    p.add_argument("--stop-signal")
    p.add_argument("--stop-timeout", type=int)
    p.add_argument("--health-cmd")
    p.add_argument("--health-interval", default="0s")
    p.add_argument("--health-timeout", default="0s")
    p.add_argument("--health-start-period", default="0s")
    p.add_argument("--health-retries", type=int, default=0)
    p.add_argument("--no-healthcheck", action="store_true")
    p.add_argument("--log-driver", default="")
    p.add_argument("--log-opt", action="append", default=[])


def options(args, auto_remove: bool) -> LifecycleOptions:
    restart = RestartPolicy.parse(args.restart) if args.restart else RestartPolicy()
    if auto_remove and restart.name not in ("", "no"):
        raise InvalidInput("conflicting options: cannot specify both --restart and --rm")
    return LifecycleOptions(restart=restart, init=args.init, group_add=list(args.group_add),
                            stop_signal=args.stop_signal, stop_timeout=args.stop_timeout,
                            healthcheck=_healthcheck(args), log_config=_log_config(args))


def _log_config(args) -> LogConfig:
    """`--log-driver` and `--log-opt KEY=VALUE`, as the docker CLI sends them."""
    options = {}
    for opt in args.log_opt:
        key, equals, value = opt.partition("=")
        if not equals:
            raise InvalidInput(f'invalid argument "{opt}" for "--log-opt" flag: invalid key value pair '
                               f'format in log-opt: {opt}')
        options[key] = value
    return LogConfig(args.log_driver or "json-file", tuple(sorted(options.items())))


def _healthcheck(args) -> Healthcheck | None:
    durations = {}
    for attr, flag in _HEALTH_DURATIONS:
        text = getattr(args, attr)
        value = duration_ns(text)
        if value is None:
            raise InvalidInput(f'invalid argument "{text}" for "{flag}" flag: time: invalid duration "{text}"')
        if value < 0:
            raise InvalidInput(f"{flag} cannot be negative")
        durations[attr] = value
    if args.health_retries < 0:
        raise InvalidInput("--health-retries cannot be negative")
    given = args.health_cmd is not None or any(durations.values()) or args.health_retries
    if args.no_healthcheck:
        if given:
            raise InvalidInput("--no-healthcheck conflicts with --health-* options")
        return Healthcheck(test=["NONE"])
    if not given:
        return None
    return Healthcheck(test=["CMD-SHELL", args.health_cmd] if args.health_cmd else [],
                       interval=durations["health_interval"], timeout=durations["health_timeout"],
                       start_period=durations["health_start_period"], retries=args.health_retries)


# --- pause / unpause / rename --------------------------------------------------------------------

def register(verbs) -> None:
    for verb, handler in (("pause", cmd_pause), ("unpause", cmd_unpause)):
        p = verbs.add_parser(verb, help=f"{verb} all processes of containers")
        p.add_argument("containers", nargs="+")
        p.set_defaults(handler=handler)
    p = verbs.add_parser("rename", help="rename a container")
    p.add_argument("container")
    p.add_argument("new_name")
    p.set_defaults(handler=cmd_rename)
    p = verbs.add_parser("update", help="update the restart policy and resource limits of containers")
    p.add_argument("--restart")
    p.add_argument("-m", "--memory")
    p.add_argument("--memory-swap")
    p.add_argument("--cpus")
    p.add_argument("-c", "--cpu-shares", type=int, default=0)
    p.add_argument("--cpuset-cpus", default="")
    p.add_argument("--pids-limit", type=int, default=0)
    p.add_argument("containers", nargs="+")
    p.set_defaults(handler=cmd_update)


def _each(names: list[str], action) -> int:
    failed = False
    for name in names:
        try:
            action(name)
            print(name, flush=True)
        except EngineError as exc:
            failed = True
            print(words(exc), file=sys.stderr)
    return 1 if failed else 0


def cmd_pause(store: Store, args) -> int:
    return _each(args.containers, ContainerService(store).pause)


def cmd_unpause(store: Store, args) -> int:
    return _each(args.containers, ContainerService(store).unpause)


def cmd_update(store: Store, args) -> int:
    """As the docker CLI: the flags given are sent (unset ones as zero), each container in turn."""
    from reference_impl.confinement import flags
    try:
        restart = RestartPolicy.parse(args.restart) if args.restart is not None else None
        resources = {"Memory": flags.ram_in_bytes(args.memory, "-m, --memory") if args.memory else 0,
                     "MemorySwap": flags.memory_swap(args.memory_swap) if args.memory_swap else 0,
                     "NanoCpus": flags.nano_cpus(args.cpus) if args.cpus else 0, "CpuShares": args.cpu_shares,
                     "CpusetCpus": args.cpuset_cpus, "PidsLimit": args.pids_limit}
    except flags.FlagError as exc:
        raise InvalidInput(str(exc)) from None
    if restart is None and not any(resources.values()):
        raise InvalidInput("you must provide one or more flags when using this command")
    service = ContainerService(store)
    return _each(args.containers, lambda name: service.update(name, restart, resources))


def cmd_rename(store: Store, args) -> int:
    try:
        ContainerService(store).rename(args.container, args.new_name)
    except EngineError as exc:
        print(words(exc), file=sys.stderr)
        print(f"Error: failed to rename container named {args.container}", file=sys.stderr)
        return 1
    return 0
