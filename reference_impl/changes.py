"""Dockerfile instructions that only change an image's config (import -c, commit -c, the builder)."""
from __future__ import annotations

import json
import shlex

from reference_impl.errors import InvalidInput

CONFIG_INSTRUCTIONS = {"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "USER", "VOLUME", "WORKDIR",
                       "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


def json_or_shell(args: str, shell: list[str] | None = None) -> list[str]:
    """Exec form (a JSON array) or shell form (run by /bin/sh -c)."""
    text = args.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
        except json.JSONDecodeError:
            pass
    return [*(shell or ["/bin/sh", "-c"]), text]


def key_values(args: str, instruction: str) -> list[tuple[str, str]]:
    """`K=V K2="v 2"` or the legacy `K V with spaces` form."""
    words = shlex.split(args, posix=True)
    if not words:
        raise InvalidInput(f"{instruction} requires at least one argument")
    if "=" not in words[0]:
        key, _, value = args.strip().partition(" ")
        if not value.strip():
            raise InvalidInput(f"{instruction} names can not be blank" if not key else
                               f"{instruction} must have two arguments")
        return [(key, value.strip())]
    pairs = []
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise InvalidInput(f"Syntax error - can't find = in \"{word}\". Must be of the form: name=value")
        pairs.append((key, value))
    return pairs


def set_env(config: dict, key: str, value: str) -> None:
    env = [e for e in (config.get("Env") or []) if e.split("=", 1)[0] != key]
    config["Env"] = [*env, f"{key}={value}"]


def apply(config: dict, line: str) -> None:
    """Apply one config instruction (e.g. 'CMD ["sh"]', 'ENV A=1') to a container config."""
    instruction, _, args = line.strip().partition(" ")
    keyword = instruction.upper()
    if keyword not in CONFIG_INSTRUCTIONS:
        raise InvalidInput(f"{instruction} is not a valid change command")
    args = args.strip()
    if keyword == "CMD":
        config["Cmd"] = json_or_shell(args)
    elif keyword == "ENTRYPOINT":
        config["Entrypoint"] = json_or_shell(args)
    elif keyword == "ENV":
        for key, value in key_values(args, "ENV"):
            set_env(config, key, value)
    elif keyword == "LABEL":
        labels = dict(config.get("Labels") or {})
        labels.update(key_values(args, "LABEL"))
        config["Labels"] = labels
    elif keyword == "EXPOSE":
        ports = dict(config.get("ExposedPorts") or {})
        for port in args.split():
            ports[port if "/" in port else f"{port}/tcp"] = {}
        config["ExposedPorts"] = ports
    elif keyword == "USER":
        config["User"] = args
    elif keyword == "WORKDIR":
        config["WorkingDir"] = args
    elif keyword == "VOLUME":
        volumes = dict(config.get("Volumes") or {})
        for v in volume_paths(args):
            volumes[v] = {}
        config["Volumes"] = volumes
    elif keyword == "STOPSIGNAL":
        config["StopSignal"] = args
    elif keyword == "ONBUILD":
        config["OnBuild"] = [*(config.get("OnBuild") or []), args]
    elif keyword == "SHELL":
        config["Shell"] = json.loads(args)
    elif keyword == "HEALTHCHECK":
        config["Healthcheck"] = healthcheck(args, config.get("Healthcheck"))


def volume_paths(args: str) -> list[str]:
    """VOLUME's paths: a JSON array or words."""
    return json.loads(args) if args.startswith("[") else args.split()


_HEALTH_FLAGS = {"interval": "Interval", "timeout": "Timeout", "start-period": "StartPeriod", "retries": "Retries"}


def healthcheck(args: str, current: dict | None) -> dict:
    """Config.Healthcheck of `HEALTHCHECK [--flag=value …] CMD command` (exec or shell form)
    or `HEALTHCHECK NONE` (which keeps the inherited timings, as dockerd does)."""
    from reference_impl.lifecycle.logtimes import duration_ns
    words = args.split(None, 1)
    found: dict = {}
    while words and words[0].startswith("--"):
        name, _, value = words[0][2:].partition("=")
        if name not in _HEALTH_FLAGS:
            raise InvalidInput(f"Unknown flag: {name}")
        if name == "retries":
            if not value.isdigit():
                raise InvalidInput(f'strconv.ParseInt: parsing "{value}": invalid syntax')
            number = int(value)
        else:
            number = duration_ns(value) if value else None
            if number is None:
                raise InvalidInput(f'time: invalid duration "{value}"')
        if number:
            found[_HEALTH_FLAGS[name]] = number
        words = words[1].split(None, 1) if len(words) > 1 else []
    kind = words[0].upper() if words else ""
    if kind == "NONE":
        return {**(current or {}), "Test": ["NONE"]}
    if kind != "CMD" or len(words) < 2:
        if kind == "CMD":
            raise InvalidInput("Missing command after HEALTHCHECK CMD")
        raise InvalidInput(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    command = words[1].strip()
    try:
        value = json.loads(command) if command.startswith("[") else None
    except json.JSONDecodeError:
        value = None
    exec_form = isinstance(value, list) and all(isinstance(v, str) for v in value)
    return {"Test": ["CMD", *value] if exec_form else ["CMD-SHELL", command], **found}
