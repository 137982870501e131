"""Volumes, bind mounts, tmpfs and a read-only root: storage outside the container's layer.

A volume's data bypasses copy-on-write: it is in neither `diff` nor `commit`, it
survives the container, and two containers see the same files. A new named volume
mounted over an image path is first filled with the image's content there (copy-up);
a volume that already holds files is not. Bind mounts show a host directory; tmpfs a
memory filesystem. Docker lists a container's .Mounts in map order: checks sort them.
"""
import json
import re

import pytest

from conformance.messages import expect_message
from conformance.storage import volumes  # noqa: F401  (fixture)

CREATED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
ANONYMOUS = re.compile(r"^[0-9a-f]{64}$")


# --- named volumes: create / ls / inspect / rm / prune -------------------------------------------

def test_volume_create_inspect_ls_and_rm(cli, names, volumes, messages):
    name = volumes.create(names("vol"), "--label", "tier=db")
    shown = cli.ok("volume", "inspect", "--format",
                   "{{.Name}}|{{.Driver}}|{{.Scope}}|{{json .Labels}}|{{json .Options}}", name).stdout.strip()
    assert shown == f'{name}|local|local|{{"tier":"db"}}|null'
    assert cli.ok("volume", "inspect", "--format", "{{.Mountpoint}}", name).stdout.strip().endswith(
        f"/volumes/{name}/_data")
    assert CREATED_AT.match(cli.ok("volume", "inspect", "--format", "{{.CreatedAt}}", name).stdout.strip())
    listed = cli.ok("volume", "ls").lines
    assert re.split(r"\s{2,}", listed[0]) == ["DRIVER", "VOLUME NAME"]
    assert ["local", name] in [line.split() for line in listed[1:]]
    assert cli.ok("volume", "create", name).stdout.strip() == name   # creating it again is no error
    assert cli.ok("volume", "rm", name).stdout.strip() == name
    gone = cli.fails("volume", "inspect", name)
    expect_message(gone.stderr, messages, "volume.no_such_volume", name=name)


def test_volume_ls_filters_by_name_label_driver_and_dangling(cli, base, names, volumes):
    used = volumes.create(names("used"), "--label", f"{names.prefix}=used")
    idle = volumes.create(names("idle"), "--label", f"{names.prefix}=idle")
    cli.ok("create", "--name", names("holder"), "-v", f"{used}:/data", base.ref, "true")

    def listed(*filters):
        args = [a for f in filters for a in ("--filter", f)]
        return sorted(cli.ok("volume", "ls", "-q", *args).lines)

    assert listed(f"label={names.prefix}") == sorted([used, idle])
    assert listed(f"label={names.prefix}=idle") == [idle]
    assert listed(f"name={names('idl')}") == [idle]           # a name filter matches a part of the name
    assert listed(f"label={names.prefix}", "driver=local") == sorted([used, idle])
    assert listed(f"label={names.prefix}", "dangling=true") == [idle]
    assert listed(f"label={names.prefix}", "dangling=false") == [used]


def test_volume_ls_refuses_an_unknown_filter(cli, messages):
    result = cli.fails("volume", "ls", "--filter", "colour=red")
    expect_message(result.stderr, messages, "filter.invalid", filter="colour")


def test_volume_in_use_is_not_removed_even_with_force(cli, base, names, volumes, messages):
    name = volumes.create(names("busy"))
    holder = cli.ok("create", "--name", names("holder"), "-v", f"{name}:/data", base.ref, "true").stdout.strip()
    for flags in ([], ["-f"]):
        refused = cli.fails("volume", "rm", *flags, name)
        expect_message(refused.stderr, messages, "volume.in_use", name=name, id=holder)
    cli.ok("rm", holder)
    assert cli.ok("volume", "rm", name).stdout.strip() == name


@pytest.mark.parametrize("bad, key", [("a/b", "volume.invalid_name"), ("x", "volume.name_too_short")])
def test_invalid_volume_names_are_refused(cli, bad, key, messages, volumes):
    volumes.track(bad)   # removed after the check, should an engine make it
    refused = cli.fails("volume", "create", bad)
    expect_message(refused.stderr, messages, key, name=bad)


def test_volume_prune_removes_unused_volumes_that_match_the_filter(cli, base, names, volumes, messages):
    label = f"{names.prefix}-prune"
    used = volumes.create(names("used"), "--label", label)
    idle = volumes.create(names("idle"), "--label", label)
    other = volumes.create(names("other"))
    cli.ok("create", "--name", names("holder"), "-v", f"{used}:/data", base.ref, "true")
    pruned = cli.ok("volume", "prune", "-f", "--filter", f"label={label}")
    assert idle in pruned.lines and used not in pruned.output and other not in pruned.output
    assert pruned.lines[0] == messages["volume.prune_deleted"]
    assert cli.run("volume", "inspect", idle).rc != 0
    assert cli.ok("volume", "inspect", "--format", "{{.Name}}", used).stdout.strip() == used
    assert cli.ok("volume", "inspect", "--format", "{{.Name}}", other).stdout.strip() == other


# --- copy-up: a new volume over an image path -----------------------------------------------------

def _image_with_data(cli, base, context, names) -> str:
    dockerfile = (f"FROM {base.ref}\n"
                  "RUN mkdir -p /data/sub && echo from-image > /data/f && echo deep > /data/sub/g"
                  " && chown 1000:2000 /data/f && chmod 640 /data/f\n")
    return cli.build_ok(context({"Dockerfile": dockerfile}), tag=names("data"))


def test_new_named_volume_is_filled_with_the_image_content(cli, base, context, names, volumes):
    image = _image_with_data(cli, base, context, names)
    name = volumes.create(names("fresh"))
    cli.ok("run", "--rm", "-v", f"{name}:/data", image, "true")
    seen = cli.ok("run", "--rm", "-v", f"{name}:/v", base.ref, "sh", "-c",
                  "cat /v/f /v/sub/g && stat -c '%u:%g %a' /v/f").stdout
    assert seen == "from-image\ndeep\n1000:2000 640\n"


def test_the_volume_is_filled_at_create_not_at_start(cli, base, context, names, volumes):
    image = _image_with_data(cli, base, context, names)
    name = volumes.create(names("early"))
    cli.ok("create", "--name", names("never-started"), "-v", f"{name}:/data", image, "true")
    assert cli.ok("run", "--rm", "-v", f"{name}:/v", base.ref, "cat", "/v/f").stdout == "from-image\n"


def test_a_volume_that_holds_files_is_not_filled(cli, base, context, names, volumes):
    image = _image_with_data(cli, base, context, names)
    name = volumes.create(names("mine"))
    cli.ok("run", "--rm", "-v", f"{name}:/v", base.ref, "sh", "-c", "echo mine > /v/own")
    assert cli.ok("run", "--rm", "-v", f"{name}:/data", image, "ls", "-A", "/data").lines == ["own"]


# --- anonymous volumes ---------------------------------------------------------------------------

def test_anonymous_volume_outlives_rm_and_goes_with_rm_v(cli, base, names, volumes):
    kept, removed = names("kept"), names("removed")
    for container in (kept, removed):
        cli.ok("run", "--name", container, "-v", "/anon", base.ref, "sh", "-c", "echo x > /anon/f")
    kept_volume = volumes.mounts(kept)[0]["Name"]
    removed_volume = volumes.mounts(removed)[0]["Name"]
    assert ANONYMOUS.match(kept_volume) and ANONYMOUS.match(removed_volume)
    cli.ok("rm", kept)
    cli.ok("rm", "-v", removed)
    assert kept_volume in cli.ok("volume", "ls", "-q", "--filter", "dangling=true").lines
    assert cli.run("volume", "inspect", removed_volume).rc != 0


def test_a_later_run_step_cannot_change_a_volume_path(cli, base, context, names):
    """The classic builder runs RUN with the image's VOLUMEs as volumes that go with the step's
    container: the step sees the image's content there, and its changes are not committed."""
    dockerfile = (f"FROM {base.ref}\nRUN mkdir /data && echo before > /data/a\nVOLUME /data\n"
                  "RUN echo after > /data/b && echo also > /data/a && ls -A /data\n")
    image = cli.build_ok(context({"Dockerfile": dockerfile}), tag=names("volume-rule"))
    assert cli.ok("run", "--rm", image, "sh", "-c", "ls -A /data; cat /data/a").lines == ["a", "before"]
    history = cli.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}", image).lines
    assert any(line.endswith("VOLUME [/data]") for line in history), history


def test_dockerfile_volume_makes_an_anonymous_volume_filled_from_the_image(cli, base, context, names,
                                                                         volumes):
    image = cli.build_ok(context({"Dockerfile": f"FROM {base.ref}\nRUN mkdir /data && echo seeded > /data/f\n"
                                                "VOLUME /data\n"}), tag=names("vol"))
    assert cli.ok("image", "inspect", "--format", "{{json .Config.Volumes}}", image).stdout.strip() == \
        '{"/data":{}}'
    container = names("user")
    assert cli.ok("run", "--name", container, image, "cat", "/data/f").stdout == "seeded\n"
    mounts = volumes.mounts(container)
    assert [(m["Type"], m["Destination"], m["RW"]) for m in mounts] == [("volume", "/data", True)]
    assert ANONYMOUS.match(mounts[0]["Name"])


# --- bind mounts -----------------------------------------------------------------------------------

def test_bind_mount_shows_the_host_directory_and_writes_reach_the_host(cli, base, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "hello").write_text("from-host\n")
    seen = cli.ok("run", "--rm", "-v", f"{shared}:/b", base.ref, "sh", "-c",
                  "cat /b/hello && echo from-container > /b/back").stdout
    assert seen == "from-host\n"
    assert cli.host.file(str(shared / "back")).content_string == "from-container\n"


def test_read_only_bind_mount_refuses_writes(cli, base, tmp_path):
    shared = tmp_path / "ro"
    shared.mkdir()
    (shared / "hello").write_text("x\n")
    for spec in (["-v", f"{shared}:/b:ro"], ["--mount", f"type=bind,source={shared},target=/b,readonly"]):
        result = cli.run("run", "--rm", *spec, base.ref, "sh", "-c", "cat /b/hello && touch /b/new")
        assert result.rc == 1 and result.stdout == "x\n"
        assert "Read-only file system" in result.stderr
    assert not cli.host.file(str(shared / "new")).exists


def test_v_creates_a_missing_host_path_and_mount_refuses_it(cli, base, tmp_path, messages):
    missing = tmp_path / "made-by-engine"
    cli.ok("run", "--rm", "-v", f"{missing}:/b", base.ref, "true")
    assert cli.host.file(str(missing)).is_directory
    absent = tmp_path / "absent"
    refused = cli.run("run", "--rm", "--mount", f"type=bind,source={absent},target=/b", base.ref, "true")
    assert refused.rc == 125
    expect_message(refused.stderr, messages, "mount.bind_source_missing", path=str(absent))
    assert not cli.host.file(str(absent)).exists


def test_mount_flag_refuses_an_unknown_key(cli, base, tmp_path, messages):
    spec = f"type=bind,source={tmp_path},target=/b,colour=red"
    refused = cli.run("run", "--rm", "--mount", spec, base.ref, "true")
    assert refused.rc == 125
    expect_message(refused.stderr, messages, "mount.unknown_key", spec=spec, pair="colour=red")


def test_bind_mount_target_must_be_absolute(cli, base, tmp_path, messages):
    refused = cli.run("run", "--rm", "-v", f"{tmp_path}:relative", base.ref, "true")
    assert refused.rc == 125
    expect_message(refused.stderr, messages, "mount.relative_target", spec=f"{tmp_path}:relative",
                   target="relative")


# --- copy-on-write and volumes ---------------------------------------------------------------------

def test_volume_data_is_in_neither_diff_nor_commit(cli, base, names, volumes):
    name = volumes.create(names("data"))
    container = names("writer")
    cli.ok("run", "--name", container, "-v", f"{name}:/data", base.ref, "sh", "-c",
           "echo v > /data/in-volume && echo l > /in-layer")
    changes = cli.ok("diff", container).lines
    assert "A /in-layer" in changes
    assert not any("in-volume" in line for line in changes)
    image = cli.ok("commit", container, names("committed")).stdout.strip()
    listed = cli.ok("run", "--rm", image, "sh", "-c", "cat /in-layer && ls -A /data").stdout
    assert listed == "l\n"


def test_volume_survives_rm_and_is_shared_by_two_containers(cli, base, names, volumes):
    name = volumes.create(names("shared"))
    first = names("first")
    cli.ok("run", "-d", "--name", first, "-v", f"{name}:/s", base.ref, "sleep", "60")
    cli.ok("exec", first, "sh", "-c", "echo one > /s/f")
    assert cli.ok("run", "--rm", "-v", f"{name}:/t", base.ref, "sh", "-c",
                  "cat /t/f && echo two >> /t/f").stdout == "one\n"
    assert cli.ok("exec", first, "cat", "/s/f").stdout == "one\ntwo\n"
    cli.ok("rm", "-f", first)
    assert cli.ok("run", "--rm", "-v", f"{name}:/t", base.ref, "cat", "/t/f").stdout == "one\ntwo\n"


# --- tmpfs and a read-only root --------------------------------------------------------------------

@pytest.mark.parametrize("flags", [["--tmpfs", "/t:size=1m,mode=700"],
                                   ["--mount", "type=tmpfs,target=/t,tmpfs-size=1048576,tmpfs-mode=0700"]])
def test_tmpfs_mount_with_size_and_mode(cli, base, names, flags):
    container = names("tmp")
    seen = cli.ok("run", "--name", container, *flags, base.ref, "sh", "-c",
                  "stat -c %a /t && grep ' /t ' /proc/mounts && echo x > /t/f").stdout.splitlines()
    assert seen[0] == "700"
    fields = seen[1].split()
    assert fields[2] == "tmpfs" and "size=1024k" in fields[3].split(",")
    assert not any("/t/f" in line for line in cli.ok("diff", container).lines)


def test_read_only_root_refuses_writes_but_tmpfs_and_volumes_take_them(cli, base, names, volumes):
    name = volumes.create(names("rw"))
    result = cli.run("run", "--rm", "--read-only", "--tmpfs", "/t", "-v", f"{name}:/v", base.ref, "sh", "-c",
                     "echo t > /t/f && echo v > /v/f && cat /t/f /v/f && touch /x")
    assert result.rc == 1 and result.stdout == "t\nv\n"
    assert "Read-only file system" in result.stderr


# --- inspect ------------------------------------------------------------------------------------------

# --- system df ------------------------------------------------------------------------------------

def test_system_df_shows_a_volume_its_size_and_how_many_containers_mount_it(cli, base, names, volumes):
    name = volumes.create(names("df"))
    holder = names("holder")
    cli.ok("run", "--name", holder, "-v", f"{name}:/d", base.ref, "sh", "-c", "head -c 100000 /dev/zero > /d/f")

    def volume_row() -> list[str]:
        rows = [line.split() for line in cli.ok("system", "df", "-v").lines]
        found = [row for row in rows if row and row[0] == name]
        assert len(found) == 1, rows
        return found[0]
    assert volume_row() == [name, "1", "100kB"]
    cli.ok("rm", holder)
    assert volume_row() == [name, "0", "100kB"]
    kinds = cli.ok("system", "df", "--format", "{{.Type}}").lines
    assert kinds == ["Images", "Containers", "Local Volumes", "Build Cache"]


# --- --volumes-from -------------------------------------------------------------------------------

def _source_with_three_mounts(cli, base, names, volumes, tmp_path) -> tuple[str, str, str, object]:
    """A stopped container with an anonymous volume at /anon, a named one at /named and a
    read-only bind at /bind, each holding a file; returns (container, anonymous, named, bound)."""
    named = volumes.create(names("shared"))
    bound = tmp_path / "bound"
    bound.mkdir()
    (bound / "f").write_text("hostfile\n")
    source = names("src")
    cli.ok("run", "--name", source, "-v", "/anon", "-v", f"{named}:/named", "-v", f"{bound}:/bind:ro",
           base.ref, "sh", "-c", "echo one > /anon/x && echo two > /named/y")
    anonymous = next(m["Name"] for m in volumes.mounts(source) if m["Destination"] == "/anon")
    return source, anonymous, named, bound


def test_volumes_from_mounts_the_other_containers_volumes_and_binds(cli, base, names, volumes, tmp_path):
    source, anonymous, named, bound = _source_with_three_mounts(cli, base, names, volumes, tmp_path)
    seen = cli.ok("run", "--rm", "--volumes-from", source, base.ref, "sh", "-c",
                  "cat /anon/x /named/y /bind/f && echo three > /named/z")
    assert seen.stdout == "one\ntwo\nhostfile\n"
    # --rm took nothing the other container still mounts; what it wrote is there
    assert cli.ok("run", "--rm", "-v", f"{named}:/n", base.ref, "cat", "/n/z").stdout == "three\n"
    assert cli.run("volume", "inspect", anonymous).rc == 0
    for mode, path in (("ro", "/named/w"), ("ro", "/anon/w"), ("rw", "/bind/w")):  # rw cannot undo a ro
        result = cli.run("run", "--rm", "--volumes-from", f"{source}:{mode}", base.ref, "touch", path)
        assert result.rc == 1 and "Read-only file system" in result.stderr, result.describe()
    assert not (bound / "w").exists()


def test_volumes_from_is_shown_by_inspect(cli, base, names, volumes, tmp_path):
    source, anonymous, named, bound = _source_with_three_mounts(cli, base, names, volumes, tmp_path)
    shown = names("dst")
    cli.ok("create", "--name", shown, "--volumes-from", f"{source}:ro", base.ref, "true")
    assert json.loads(cli.inspect(shown, "{{json .HostConfig.VolumesFrom}}")) == [f"{source}:ro"]
    mounts = volumes.mounts(shown)
    assert [(m["Type"], m.get("Name", m["Source"]), m["Destination"], m["Mode"], m["RW"]) for m in mounts] == [
        ("volume", anonymous, "/anon", "", False), ("bind", str(bound), "/bind", "", False),
        ("volume", named, "/named", "", False)]


def test_volumes_from_an_unknown_container_or_with_a_bad_mode_is_refused(cli, base, names, messages):
    missing = names("nope")
    result = cli.fails("run", "--rm", "--volumes-from", missing, base.ref, "true")
    assert result.rc == 125
    expect_message(result.stderr, messages, "container.no_such_container", name=missing)
    holder = names("holder")
    cli.ok("create", "--name", holder, "-v", "/anon", base.ref, "true")
    result = cli.fails("run", "--rm", "--volumes-from", f"{holder}:bogus", base.ref, "true")
    assert result.rc == 125
    expect_message(result.stderr, messages, "mount.invalid_mode", mode="bogus")
    cli.ok("rm", "-v", holder)


def test_inspect_shows_mounts_and_host_config(cli, base, names, volumes, tmp_path):
    name = volumes.create(names("named"))
    bound = tmp_path / "bound"
    bound.mkdir()
    container = names("shown")
    cli.ok("create", "--name", container, "-v", f"{name}:/data", "-v", "/anon", "-v", f"{bound}:/b:ro",
           "--mount", f"type=bind,source={tmp_path},target=/m,readonly", "--tmpfs", "/t:size=1m",
           base.ref, "true")
    mounts = volumes.mounts(container)
    anon = next(m["Name"] for m in mounts if m["Destination"] == "/anon")
    root = mounts[[m["Destination"] for m in mounts].index("/data")]["Source"].removesuffix(f"/{name}/_data")
    assert mounts == [
        {"Type": "volume", "Name": anon, "Source": f"{root}/{anon}/_data", "Destination": "/anon",
         "Driver": "local", "Mode": "", "RW": True, "Propagation": ""},
        {"Type": "bind", "Source": str(bound), "Destination": "/b", "Mode": "ro", "RW": False,
         "Propagation": "rprivate"},
        {"Type": "volume", "Name": name, "Source": f"{root}/{name}/_data", "Destination": "/data",
         "Driver": "local", "Mode": "z", "RW": True, "Propagation": ""},
        {"Type": "bind", "Source": str(tmp_path), "Destination": "/m", "Mode": "", "RW": False,
         "Propagation": "rprivate"},
    ]
    # the docker CLI sends -v's binds in map order: their order is not part of the behaviour
    assert sorted(json.loads(cli.inspect(container, "{{json .HostConfig.Binds}}"))) == \
        sorted([f"{name}:/data", f"{bound}:/b:ro"])
    host = cli.inspect(container, "{{json .HostConfig.Mounts}}|{{json .HostConfig.Tmpfs}}|"
                                  "{{json .HostConfig.ReadonlyRootfs}}|{{json .Config.Volumes}}")
    assert host == (f'[{{"Type":"bind","Source":"{tmp_path}","Target":"/m","ReadOnly":true}}]|'
                    '{"/t":"size=1m"}|false|{"/anon":{}}')
