"""Confinement (issue 15): a container's root is not the host's root. Docker's default
capabilities, seccomp profile, masked and read-only paths, devices cgroup, and the
flags that change them or set limits (--cap-add/--cap-drop, --security-opt, --read-only,
--ulimit, -m/--memory-swap, --cpus/--cpu-shares/--cpuset-cpus, --pids-limit,
--privileged), each with its effect on a real operation and as `inspect` shows it.

Attempts that busybox cannot make (open_by_handle_at, userfaultfd, unshare of a user
namespace) are made by a static probe, conformance/probes/escape.c, copied into an image.
Cgroup files are read inside the container at /sys/fs/cgroup (v1 or v2 names).
"""
import json
import os
import re

import pytest

from conformance.messages import expect_message
from conformance.running import poll
from conformance.probes import build_escape

DEFAULT_CAPS = "00000000a80425fb"
MASKED = ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"]
READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


@pytest.fixture(scope="session")
def escape_binary(tmp_path_factory):
    return build_escape(tmp_path_factory.mktemp("escape-probe"))


@pytest.fixture
def probe(cli, base, context, escape_binary, names) -> str:
    """The check's base image with /bin/escape."""
    ctx = context({"Dockerfile": f"FROM {base.ref}\nCOPY escape /bin/escape\n",
                   "escape": escape_binary.read_bytes()})
    (ctx / "escape").chmod(0o755)
    tag = names("probe") + ":1"
    cli.build_ok(ctx, tag=tag)
    return tag


def status(cli, image, *options) -> dict[str, str]:
    """/proc/self/status of a container's process, as a dict."""
    out = cli.ok("run", "--rm", *options, image, "cat", "/proc/self/status").stdout
    return {k: v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def host_config(cli, name) -> dict:
    return json.loads(cli.inspect(name, "{{json .HostConfig}}"))


def cgroup_file(cli, image, options, v1: str, v2: str) -> str:
    """A cgroup file of a container's own group, by its v1 or v2 name."""
    script = f"cat /sys/fs/cgroup/{v1} 2>/dev/null || cat /sys/fs/cgroup/{v2}"
    return cli.ok("run", "--rm", *options, image, "sh", "-c", script).stdout.strip()


# --- capabilities ------------------------------------------------------------------------------

def test_default_capabilities_are_dockers_fourteen_and_seccomp_is_on(cli, base):
    fields = status(cli, base.ref)
    assert [fields[k] for k in ("CapPrm", "CapEff", "CapBnd")] == [DEFAULT_CAPS] * 3
    assert fields["CapInh"] == fields["CapAmb"] == "0000000000000000"
    assert fields["NoNewPrivs"] == "0"
    assert fields["Seccomp"] == "2"


def test_cap_drop_takes_the_capability_and_its_operation(cli, base, names):
    assert cli.ok("run", "--rm", base.ref, "chown", "1", "/bin").rc == 0
    name = names("nochown")
    result = cli.run("run", "--name", name, "--cap-drop", "chown", base.ref, "sh", "-c",
                     "grep CapEff /proc/self/status; chown 1 /bin")
    assert result.rc == 1, result.describe()
    assert "00000000a80425fa" in result.stdout
    assert "Operation not permitted" in result.stderr
    config = host_config(cli, name)
    assert (config["CapAdd"], config["CapDrop"]) == (None, ["CAP_CHOWN"])


def test_cap_drop_all_then_add_back_one(cli, base, names):
    ping = ["ping", "-c", "1", "-W", "2", "127.0.0.1"]
    assert cli.ok("run", "--rm", base.ref, *ping).rc == 0
    refused = cli.run("run", "--rm", "--cap-drop", "ALL", base.ref, *ping)
    assert refused.rc != 0 and "permission denied" in refused.stderr, refused.describe()
    assert status(cli, base.ref, "--cap-drop", "ALL")["CapEff"] == "0000000000000000"
    name = names("rawonly")
    cli.ok("run", "--name", name, "--cap-drop", "ALL", "--cap-add", "net_raw", base.ref, *ping)
    config = host_config(cli, name)
    assert (config["CapAdd"], config["CapDrop"]) == (["CAP_NET_RAW"], ["ALL"])
    assert status(cli, base.ref, "--cap-drop", "ALL", "--cap-add", "NET_RAW")["CapEff"] == "0000000000002000"


def test_cap_add_grants_a_capability(cli, base):
    fields = status(cli, base.ref, "--cap-add", "NET_ADMIN")
    assert fields["CapEff"] == fields["CapBnd"] == "00000000a80435fb"


def test_an_unknown_capability_is_refused(cli, base, messages):
    result = cli.fails("run", "--rm", "--cap-add", "BOGUS", base.ref, "true")
    assert result.rc == 125
    expect_message(result.stderr, messages, "confinement.unknown_capability", cap="CAP_BOGUS")


# --- seccomp, no-new-privileges ------------------------------------------------------------

def test_seccomp_refuses_syscalls_and_unconfined_lifts_it(cli, probe):
    refused = cli.run("run", "--rm", probe, "sh", "-c", "escape userfaultfd; escape unshare-user")
    assert refused.stdout.splitlines() == ["userfaultfd: Operation not permitted",
                                           "unshare: Operation not permitted"], refused.describe()
    lifted = cli.ok("run", "--rm", "--security-opt", "seccomp=unconfined", probe, "sh", "-c",
                    "escape userfaultfd && escape unshare-user && grep Seccomp: /proc/self/status")
    assert lifted.stdout.split() == ["ok", "userfaultfd", "ok", "unshare", "Seccomp:", "0"]


def test_open_by_handle_at_is_refused(cli, probe):
    """The 'shocker' escape through the file system /etc/hosts is bind-mounted from."""
    result = cli.run("run", "--rm", probe, "escape", "shocker", "etc/hostname")
    assert result.rc == 1 and result.stdout.strip() == "open_by_handle_at: Operation not permitted", \
        result.describe()


def test_no_new_privileges(cli, base, names):
    name = names("nnp")
    out = cli.ok("run", "--name", name, "--security-opt", "no-new-privileges", base.ref,
                 "grep", "NoNewPrivs", "/proc/self/status").stdout
    assert out.split() == ["NoNewPrivs:", "1"]
    assert host_config(cli, name)["SecurityOpt"] == ["no-new-privileges"]


# --- paths, mounts, devices -------------------------------------------------------------------

def test_masked_paths_read_as_nothing(cli, base, names):
    name = names("masked")
    script = ("for p in " + " ".join(MASKED) + "; do "
              "if [ -d $p ]; then echo $p dir $(ls -A $p | wc -l); "
              "elif [ -e $p ]; then echo $p file $(cat $p | wc -c); fi; done")
    out = cli.ok("run", "--name", name, base.ref, "sh", "-c", script).lines
    assert out, "no masked path exists on this kernel"
    for line in out:
        path, kind, size = line.split()
        assert size == "0", line
    assert host_config(cli, name).get("MaskedPaths") == MASKED


def test_read_only_paths_refuse_writes(cli, base, names):
    name = names("ro")
    result = cli.run("run", "--name", name, base.ref, "sh", "-c",
                     "v=$(cat /proc/sys/vm/swappiness); echo $v > /proc/sys/vm/swappiness && echo written; "
                     "touch /sys/x && echo touched; grep -E ' /proc/(sys|irq|bus|fs|sysrq-trigger) ' /proc/self/mounts")
    assert "written" not in result.stdout and "touched" not in result.stdout, result.describe()
    assert result.stderr.count("Read-only file system") == 2, result.describe()
    mounts = {line.split()[1]: line.split()[3].split(",") for line in result.stdout.splitlines()}
    assert "/proc/sys" in mounts
    assert all("ro" in options for options in mounts.values()), mounts
    assert host_config(cli, name).get("ReadonlyPaths") == READONLY


def test_mount_is_refused(cli, base):
    result = cli.run("run", "--rm", base.ref, "sh", "-c", "mkdir /m && mount -t proc proc /m && echo mounted")
    assert result.rc != 0 and "mounted" not in result.stdout, result.describe()


def test_a_block_device_can_be_made_but_not_opened(cli, base):
    """The devices cgroup: mknod of any device ("b *:* m"), no read of a block device.
    The device is the first disk in /proc/partitions, the implementation host's own."""
    script = ("set -- $(awk 'NR > 2 {print $1, $2; exit}' /proc/partitions); "
              "mknod /disk b $1 $2 && echo made && head -c 512 /disk > /dev/null && echo read")
    result = cli.run("run", "--rm", base.ref, "sh", "-c", script)
    assert result.stdout.split() == ["made"], result.describe()
    assert "Operation not permitted" in result.stderr


def test_read_only_root(cli, base, names):
    name = names("rofs")
    result = cli.run("run", "--name", name, "--read-only", base.ref, "sh", "-c",
                     "touch /tmp/x && echo wrote-root; echo ok >> /etc/hosts && echo wrote-hosts; "
                     "touch /dev/shm/x && echo wrote-shm")
    assert result.stdout.split() == ["wrote-shm"], result.describe()
    assert result.stderr.count("Read-only file system") == 2, result.describe()
    assert host_config(cli, name)["ReadonlyRootfs"] is True


def test_ulimit(cli, base, names):
    name = names("ulimit")
    out = cli.ok("run", "--name", name, "--ulimit", "nofile=100:200", base.ref, "sh", "-c",
                 "ulimit -n; ulimit -Hn").lines
    assert out == ["100", "200"]
    assert host_config(cli, name)["Ulimits"] == [{"Name": "nofile", "Hard": 200, "Soft": 100}]


# --- cgroup limits -------------------------------------------------------------------------------

def test_memory_limit_and_swap(cli, base, names):
    assert cgroup_file(cli, base.ref, ["-m", "64m"], "memory/memory.limit_in_bytes", "memory.max") == "67108864"
    name = names("mem")
    cli.ok("create", "--name", name, "-m", "64m", base.ref, "true")
    config = host_config(cli, name)
    assert (config["Memory"], config["MemorySwap"]) == (64 << 20, 128 << 20)  # swap defaults to as much again
    swap = cgroup_file(cli, base.ref, ["-m", "32m", "--memory-swap", "64m"],
                       "memory/memory.memsw.limit_in_bytes", "memory.swap.max")
    assert swap in (str(64 << 20), str(32 << 20))  # v1: memory + swap; v2: swap alone


def test_memory_swap_without_memory_is_refused(cli, base, messages):
    result = cli.fails("run", "--rm", "--memory-swap", "64m", base.ref, "true")
    assert result.rc == 125
    expect_message(result.stderr, messages, "confinement.swap_without_memory")
    result = cli.fails("run", "--rm", "-m", "1m", base.ref, "true")
    expect_message(result.stderr, messages, "confinement.memory_too_small")


def test_an_allocation_past_the_memory_limit_is_oom_killed(cli, base, names):
    # a second before allocating: containerd's shim watches a task's OOM events only once it
    # has started it, and misses a kill before that (containerd/containerd#8180; seen once in
    # CI: "false 137"); dockerd records the event apart from the exit, so it is polled for
    name = names("oom")
    result = cli.run("run", "--name", name, "-m", "8m", "--memory-swap", "8m", base.ref, "sh", "-c",
                     "sleep 1; x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo survived", timeout=120)
    assert result.rc == 137, result.describe()
    assert "survived" not in result.stdout
    state = lambda: cli.inspect(name, "{{.State.OOMKilled}} {{.State.ExitCode}}")  # noqa: E731
    assert poll(lambda: state() == "true 137", seconds=5), state()


def test_cpu_limits(cli, base, names):
    options = ["--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0"]
    quota = cgroup_file(cli, base.ref, options, "cpu/cpu.cfs_quota_us", "cpu.max")
    assert quota in ("50000", "50000 100000")
    assert cgroup_file(cli, base.ref, options, "cpuset/cpuset.cpus", "cpuset.cpus") == "0"
    name = names("cpu")
    cli.ok("create", "--name", name, *options, base.ref, "true")
    config = host_config(cli, name)
    assert (config["NanoCpus"], config["CpuShares"], config["CpusetCpus"]) == (500_000_000, 512, "0")


def test_pids_limit_contains_a_fork_bomb(cli, base, names):
    name = names("pids")
    # shell builtins only (read, echo) once the bomb has gone off: no fork is left for cat
    script = ("g=/sys/fs/cgroup/pids; [ -d $g ] || g=/sys/fs/cgroup; read max < $g/pids.max; echo $max; "
              "(for i in $(seq 40); do sleep 5 & done); read now < $g/pids.current; echo $now")
    out = cli.run("run", "--name", name, "--pids-limit", "20", base.ref, "sh", "-c", script)
    lines = out.stdout.split()
    assert len(lines) == 2 and lines[0] == "20", out.describe()
    assert 10 < int(lines[1]) <= 20, out.describe()
    assert "can't fork" in out.stderr, out.describe()
    assert host_config(cli, name)["PidsLimit"] == 20


def test_default_host_config_shows_no_limits(cli, base, names):
    name = names("plain")
    cli.ok("create", "--name", name, base.ref, "true")
    config = host_config(cli, name)
    assert {k: config[k] for k in ("Privileged", "CapAdd", "CapDrop", "SecurityOpt", "ReadonlyRootfs",
                                   "Memory", "MemorySwap", "NanoCpus", "CpuShares", "CpusetCpus",
                                   "PidsLimit")} == {
        "Privileged": False, "CapAdd": None, "CapDrop": None, "SecurityOpt": None, "ReadonlyRootfs": False,
        "Memory": 0, "MemorySwap": 0, "NanoCpus": 0, "CpuShares": 0, "CpusetCpus": "", "PidsLimit": None}


# --- privileged ----------------------------------------------------------------------------------

def test_privileged_gets_every_capability_or_fails_where_the_host_lacks_one(cli, base):
    """Docker asks for every capability the kernel knows. Where the implementation host's
    own bounding set lacks one (this project's CI host lacks CAP_SYS_RESOURCE), no runtime
    can grant it and the start fails; elsewhere the container has them all, no seccomp,
    and a writable /proc/sys."""
    host = cli.shell("cat /proc/sys/kernel/cap_last_cap; grep CapBnd /proc/self/status").stdout.split()
    every = (1 << (int(host[0]) + 1)) - 1
    bounding = int(host[-1], 16)
    result = cli.run("run", "--rm", "--privileged", base.ref, "sh", "-c",
                     "grep -E 'CapEff|Seccomp:' /proc/self/status; grep ' /proc/sys ' /proc/self/mounts")
    if bounding & every != every:
        assert result.rc == 125, result.describe()
        assert "unable to apply caps: operation not permitted" in result.stderr
        return
    assert result.rc == 0, result.describe()
    fields = dict(re.findall(r"(\w+):\s+(\S+)", result.stdout))
    assert int(fields["CapEff"], 16) == every and fields["Seccomp"] == "0"
    assert " /proc/sys " not in result.stdout  # no read-only re-mount


def test_no_descriptor_of_the_caller_reaches_a_container(cli, base, names):
    # the caller's inheritable descriptors stay with it: runc starts a container's processes
    # with 0, 1 and 2 only. A directory descriptor of the host's root that crossed into the
    # container would be a way out of its root (the leaked-descriptor escapes of runc).
    keep = "exec 7</ 8>/dev/null; "
    run = cli.shell(keep + "{cli} run --rm {image} sh -c 'ls /proc/self/fd/7/; ls /proc/$$/fd; true'",
                    image=base.ref)
    assert run.stdout.split() == ["0", "1", "2"], run.describe()
    assert "No such file or directory" in run.stderr, run.describe()
    name = names("fds")
    cli.shell(keep + "{cli} run -d --name {name} {image} sleep 300", name=name, image=base.ref)
    assert cli.ok("exec", name, "ls", "/proc/1/fd").lines == ["0", "1", "2"]
    exec_fds = cli.shell(keep + "{cli} exec {name} sh -c 'ls /proc/$$/fd; true'", name=name)
    assert exec_fds.stdout.split() == ["0", "1", "2"], exec_fds.describe()



def test_a_terminal_container_sees_only_a_terminal_of_its_own(cli, base):
    # runc makes a -t container's terminal in the container's own devpts: the host's terminals
    # stay out of sight (one the container could open, it could read and type into), and the
    # container's is /dev/pts/0, owned by its user, its controlling terminal and /dev/console
    host_side = os.openpty()  # a terminal of the host's exists while the container runs
    try:
        out = cli.ok("run", "--rm", "-t", "-u", "1000", base.ref, "sh", "-c",
                     "tty; echo /dev/pts/*; stat -c '%F %u %g %a %t,%T' /dev/console /dev/pts/0; "
                     "cut -d' ' -f6,7 /proc/self/stat")
    finally:
        for fd in host_side:
            os.close(fd)
    assert out.lines == ["/dev/pts/0", "/dev/pts/0 /dev/pts/ptmx",
                         "character special file 1000 5 620 88,0", "character special file 1000 5 620 88,0",
                         f"1 {136 << 8}"], out.describe()
    plain = cli.run("run", "--rm", base.ref, "sh", "-c", "tty; echo /dev/pts/*; ls /dev/console")
    assert plain.lines == ["not a tty", "/dev/pts/ptmx"], plain.describe()
    assert "No such file or directory" in plain.stderr, plain.describe()


def test_dev_has_dockers_pts_shm_and_mqueue_mounts(cli, base):
    # runc's /dev: a devpts of the tty group (gid 5), a 64 MiB shm and the IPC namespace's mqueue
    script = "grep -E ' /dev/(pts|shm|mqueue) ' /proc/self/mountinfo"
    mounts = {}
    for line in cli.ok("run", "--rm", base.ref, "sh", "-c", script).lines:
        fields, _, fs = line.partition(" - ")
        mounts[fields.split()[4]] = fs.split()
    assert mounts == {"/dev/pts": ["devpts", "devpts", "rw,gid=5,mode=620,ptmxmode=666"],
                      "/dev/shm": ["tmpfs", "shm", "rw,size=65536k"],
                      "/dev/mqueue": ["mqueue", "mqueue", "rw"]}, mounts
