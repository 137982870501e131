"""`user[:group]` and the added groups, looked up in the container's own /etc/passwd and
/etc/group as runc looks them up (libcontainer/user): a number needs no entry; a name
must have one; without an explicit group, the groups that list the user by name are its
supplementary groups; --group-add's groups come after them. As dockerd's getUser, the
primary group leads the supplementary list (`Groups: 0` for root in /proc/self/status,
what getgroups() answers), each group once."""
from __future__ import annotations

from dataclasses import dataclass


class UserError(LookupError):
    """A user or group that the container's files do not have (dockerd's words)."""


@dataclass(frozen=True)
class ExecUser:
    uid: int
    gid: int
    groups: list[int]     # supplementary groups, for setgroups()
    home: str


def resolve(user: str, group_add: list[str] = (), root: str = "/") -> ExecUser:
    name, colon, group = (user or "").partition(":")
    passwd = _entries(f"{root}/etc/passwd", 7)
    uid, gid, home, user_name = 0, 0, "/", ""
    if name:
        entry = next((e for e in passwd if e[0] == name or (name.isdigit() and e[2] == name)), None)
        if entry is not None:
            user_name, uid, gid, home = entry[0], int(entry[2]), int(entry[3]), entry[5]
        elif name.isdigit():
            uid = int(name)
        else:
            raise UserError(f"unable to find user {name}: no matching entries in passwd file")
    else:
        entry = next((e for e in passwd if e[2] == "0"), None)
        if entry is not None:
            user_name, gid, home = entry[0], int(entry[3]), entry[5]
    groups = _entries(f"{root}/etc/group", 4)
    supplementary: list[int] = []
    if colon and group:
        entry = next((g for g in groups if g[0] == group or (group.isdigit() and g[2] == group)), None)
        if entry is not None:
            gid = int(entry[2])
        elif group.isdigit():
            gid = int(group)
        else:
            raise UserError(f"unable to find group {group}: no matching entries in group file")
    elif user_name:
        supplementary = [int(g[2]) for g in groups if user_name in g[3].split(",")]
    return ExecUser(uid, gid, list(dict.fromkeys([gid, *supplementary, *added_groups(group_add, groups)])), home)


def added_groups(names: list[str], groups: list[list[str]]) -> list[int]:
    found = []
    for name in names:
        entry = next((g for g in groups if g[0] == name), None)
        if entry is not None:
            found.append(int(entry[2]))
        elif name.isdigit():
            found.append(int(name))
        else:
            raise UserError(f"Unable to find group {name}: no matching entries in group file")
    return found


def _entries(path: str, fields: int) -> list[list[str]]:
    try:
        with open(path) as f:
            lines = [line.rstrip("\n").split(":") for line in f if not line.startswith("#")]
    except OSError:
        return []
    return [(e + [""] * fields)[:fields] for e in lines if len(e) >= 3 and e[2].isdigit()]
