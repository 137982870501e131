"""run/create's storage flags as the docker CLI sends them: `-v src:dst[:mode]` goes to
HostConfig.Binds and `-v /path` to Config.Volumes (an anonymous volume), `--mount k=v,…`
is parsed here into HostConfig.Mounts, `--tmpfs path[:opts]` to HostConfig.Tmpfs,
`--volumes-from container[:mode]` to HostConfig.VolumesFrom."""
from __future__ import annotations

from reference_impl.confinement import flags
from reference_impl.engine.records.storage import Mount, Storage
from reference_impl.errors import InvalidInput

_TRUE = {"", "1", "true"}
_FALSE = {"0", "false"}


def add_flags(p) -> None:
    p.add_argument("-v", "--volume", action="append", default=[])
    p.add_argument("--mount", action="append", default=[])
    p.add_argument("--tmpfs", action="append", default=[])
    p.add_argument("--volumes-from", action="append", default=[])


def storage(args) -> Storage | None:
    if not (args.volume or args.mount or args.tmpfs or args.volumes_from):
        return None
    binds = [v for v in args.volume if ":" in v]
    anonymous = [v for v in args.volume if ":" not in v]
    tmpfs = {}
    for spec in args.tmpfs:
        path, _, options = spec.partition(":")
        tmpfs[path] = options
    return Storage(binds=binds, volumes=anonymous, tmpfs=tmpfs, mounts=[parse_mount(m) for m in args.mount],
                   volumes_from=list(args.volumes_from))


def parse_mount(spec: str) -> Mount:
    """`type=bind,source=/a,target=/b,readonly`, as the docker CLI's MountOpt reads it."""
    def refuse(why: str) -> InvalidInput:
        return InvalidInput(f'invalid argument "{spec}" for "--mount" flag: {why}')

    import csv
    fields = next(csv.reader([spec]))
    values: dict = {"type": "volume"}
    for field in fields:
        key, eq, value = field.partition("=")
        key = key.strip().lower()
        if key in ("readonly", "ro", "volume-nocopy"):
            if value.lower() not in _TRUE | _FALSE:
                raise refuse(f"invalid value for {key}: {value}")
            values["no_copy" if key == "volume-nocopy" else "read_only"] = value.lower() in _TRUE
            continue
        if not eq:
            raise refuse(f"invalid field '{field}' must be a key=value pair")
        if key == "type":
            values["type"] = value
        elif key in ("source", "src"):
            values["source"] = value
        elif key in ("target", "dst", "destination"):
            values["target"] = value
        elif key == "tmpfs-size":
            try:
                values["tmpfs_size"] = flags.ram_in_bytes(value, "--mount")
            except flags.FlagError:
                raise refuse(f"invalid value for {key}: {value}") from None
        elif key == "tmpfs-mode":
            try:
                values["tmpfs_mode"] = int(value, 8)
            except ValueError:
                raise refuse(f"invalid value for {key}: {value}") from None
        else:  # bind-propagation, volume-driver, volume-label, volume-opt …: not implemented
            raise refuse(f"unexpected key '{key}' in '{field}'")
    if "target" not in values:
        raise refuse("target is required")
    if values["type"] not in ("bind", "volume", "tmpfs"):
        raise refuse(f"mount type unknown: {values['type']}")
    return Mount(**values)
