"""An attacker's attempts from inside a strata container (issue 15), each of which worked
before the engine confined its containers, and each of which must fail now.

Every probe is written so that it succeeds where the confinement it tests is lifted:
the open_by_handle_at and mount attempts are rerun with exactly the capability (and,
for mount, seccomp=unconfined) that lifts them and must then succeed. The /proc/sys
write and the block device read are lifted only by --privileged, which this host
refuses (its bounding set lacks CAP_SYS_RESOURCE, as for Docker); for them the test
asserts the exact reason of the refusal (a read-only /proc/sys mount; the container's
devices cgroup), which an unconfined container does not give.
"""
import os
import select
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.probes import build_escape
from reference_impl.confinement import capabilities, cgroups
from reference_impl.confinement.settings import Confinement, SettingsError

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")


@pytest.fixture
def probe(strata, tmp_path):
    """base:latest with /bin/escape (conformance/probes/escape.c) as probe:latest."""
    context = tmp_path / "probe-context"
    build_escape(context)
    (context / "Dockerfile").write_text("FROM base:latest\nCOPY escape /bin/escape\n")
    built = strata("build", "-q", "-t", "probe:latest", context)
    assert built.returncode == 0, built.stderr
    return "probe:latest"


def run(strata, *args):
    return strata("run", "--rm", *args)


def _fs_root_relative(path: Path) -> str:
    """`path` relative to the root of the file system it is on."""
    path = path.resolve()
    device = path.stat().st_dev
    top = path
    while top.parent != top and top.parent.stat().st_dev == device:
        top = top.parent
    return str(path.relative_to(top))


def test_open_by_handle_at_cannot_read_a_host_file(strata, probe):
    """The 'shocker' escape: /etc/hosts is bind-mounted from the host's file system, so a
    file handle for that file system's root opens the host's whole tree."""
    secret = f"host-secret-{secrets.token_hex(8)}"
    marker = strata.root / f"marker-{secrets.token_hex(4)}"
    marker.write_text(secret)
    relative = _fs_root_relative(marker)

    confined = run(strata, probe, "escape", "shocker", relative)
    assert confined.returncode == 1, confined
    assert confined.stdout.strip() == "open_by_handle_at: Operation not permitted"
    assert secret not in confined.stdout

    # the same attempt with CAP_DAC_READ_SEARCH (which the default profile then allows)
    # reads the host's file: the probe is a real escape, held back only by confinement
    lifted = run(strata, "--cap-add", "DAC_READ_SEARCH", probe, "escape", "shocker", relative)
    assert lifted.returncode == 0, lifted
    assert lifted.stdout.strip() == f"ok {secret}"


def test_a_host_wide_sysctl_cannot_be_written(strata):
    """vm.swappiness is not namespaced: a write would change the host. The probe writes
    back the value it read, so it changes nothing even where it succeeds."""
    result = run(strata, "base:latest", "sh", "-c",
                 "v=$(cat /proc/sys/vm/swappiness) && echo $v > /proc/sys/vm/swappiness && echo written")
    assert result.returncode != 0, result
    assert "written" not in result.stdout
    assert "Read-only file system" in result.stderr
    mounts = run(strata, "base:latest", "grep", " /proc/sys ", "/proc/self/mounts")
    assert mounts.stdout.split()[3].split(",")[0] == "ro", mounts


def test_mount_of_proc_is_refused(strata):
    attempt = "mkdir -p /m && mount -t proc proc /m && echo mounted"
    confined = run(strata, "base:latest", "sh", "-c", attempt)
    assert confined.returncode != 0, confined
    assert "mounted" not in confined.stdout
    lifted = run(strata, "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined",
                 "base:latest", "sh", "-c", attempt)
    assert lifted.stdout.strip() == "mounted", lifted


def test_a_block_device_can_be_made_but_not_opened(strata):
    """mknod is allowed (CAP_MKNOD, "b *:* m"); opening is refused by the devices cgroup.
    (This host's own device cgroup refuses /dev/vda even to the host's root, so the
    container's own rules are checked too.)"""
    disk = os.stat(strata.root).st_dev
    major, minor = os.major(disk), os.minor(disk)
    result = run(strata, "base:latest", "sh", "-c",
                 f"mknod /disk b {major} {minor} && echo made && head -c 512 /disk > /dev/null && echo read")
    assert result.stdout.split() == ["made"], result
    assert "Operation not permitted" in result.stderr
    rules = run(strata, "base:latest", "cat", "/sys/fs/cgroup/devices/devices.list").stdout.splitlines()
    assert rules == cgroups.DEVICE_RULES
    assert not any(r.startswith(("a ", "b ")) and "r" in r.split()[-1] for r in rules)


def test_default_capabilities_and_seccomp(strata, probe):
    status = run(strata, probe, "cat", "/proc/self/status").stdout
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert fields["CapEff"].strip() == fields["CapBnd"].strip() == "00000000a80425fb"
    assert fields["CapInh"].strip() == fields["CapAmb"].strip() == "0000000000000000"
    assert fields["Seccomp"].strip() == "2"
    assert fields["NoNewPrivs"].strip() == "0"
    refused = run(strata, probe, "escape", "unshare-user")
    assert refused.stdout.strip() == "unshare: Operation not permitted"
    lifted = run(strata, "--security-opt", "seccomp=unconfined", probe, "escape", "unshare-user")
    assert lifted.stdout.strip() == "ok unshare"


def test_exec_is_confined_as_the_container(strata):
    name = f"c-{secrets.token_hex(4)}"
    assert strata("run", "-d", "--name", name, "base:latest", "sleep", "60").returncode == 0
    status = strata("exec", name, "cat", "/proc/self/status").stdout
    assert "CapEff:\t00000000a80425fb" in status and "Seccomp:\t2" in status
    strata("rm", "-f", name)


def test_the_cgroup_is_removed_with_the_container(strata):
    name = f"c-{secrets.token_hex(4)}"
    cid = strata("run", "-d", "--name", name, "-m", "32m", "base:latest", "sleep", "60").stdout.strip()
    groups = cgroups.paths(cid)
    assert groups and all(g.is_dir() for g in groups)
    assert (groups[0] / "memory.limit_in_bytes").read_text().strip() == str(32 << 20)
    assert strata("rm", "-f", name).returncode == 0
    assert not any(g.exists() for g in groups)


def test_docker_capability_arithmetic():
    assert capabilities.mask(capabilities.DEFAULT) == 0xa80425fb
    assert capabilities.effective_set(False, ["NET_ADMIN"], ["chown"]) == \
        [c for c in capabilities.DEFAULT if c != "CAP_CHOWN"] + ["CAP_NET_ADMIN"]
    assert capabilities.effective_set(False, ["CAP_CHOWN"], ["ALL"]) == ["CAP_CHOWN"]
    assert "CAP_SYS_ADMIN" in capabilities.effective_set(False, ["ALL"], None)


@pytest.mark.parametrize("host, message", [
    ({"Memory": 1 << 20}, "Minimum memory limit allowed is 6MB"),
    ({"MemorySwap": 64 << 20}, "You should always set the Memory limit when using Memoryswap limit, see usage"),
    ({"CapAdd": ["BOGUS"]}, 'invalid CapAdd: unknown capability: "CAP_BOGUS"'),
    ({"SecurityOpt": ["bogus"]}, 'invalid --security-opt 1: "bogus"'),
    ({"CpuQuota": 5000}, "invalid HostConfig: CpuQuota is not supported by this engine"),
])
def test_settings_refused_in_dockers_words(host, message):
    with pytest.raises(SettingsError) as info:
        Confinement.from_host_config(host)
    assert str(info.value) == message


def test_cgroup_v2_files(tmp_path, monkeypatch):
    """The unified hierarchy's code path, on a directory laid out as /sys/fs/cgroup is there
    (this host is v1): which files get which values."""
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    monkeypatch.setattr(cgroups, "ROOT", tmp_path)
    settings = Confinement.from_host_config({"Memory": 64 << 20, "MemorySwap": 96 << 20,
                                             "NanoCpus": 1_500_000_000, "CpuShares": 512,
                                             "CpusetCpus": "0", "PidsLimit": 50})
    (tmp_path / "strata" / "abc").mkdir(parents=True)
    (tmp_path / "strata" / "abc" / "memory.swap.max").write_text("max\n")
    assert cgroups.unified() and cgroups.create("abc", settings) == [tmp_path / "strata" / "abc"]
    group = tmp_path / "strata" / "abc"
    assert {name: (group / name).read_text() for name in
            ("memory.max", "memory.swap.max", "cpu.max", "cpu.weight", "cpuset.cpus", "pids.max")} == {
        "memory.max": str(64 << 20), "memory.swap.max": str(32 << 20), "cpu.max": "150000 100000",
        "cpu.weight": "20", "cpuset.cpus": "0", "pids.max": "50"}
    assert (tmp_path / "strata" / "cgroup.subtree_control").read_text() == "+memory +cpu +cpuset +pids"


UNIFIED = Path("/sys/fs/cgroup/unified")  # a hybrid host's cgroup2 mount (no controllers)


@pytest.mark.skipif(not (UNIFIED / "cgroup.controllers").exists(),
                    reason="needs a hybrid host's cgroup2 mount at /sys/fs/cgroup/unified")
def test_cgroup_v2_path_runs_a_container_whose_device_nodes_cannot_be_opened(strata):
    """The whole v2 path, run for real against the hybrid host's cgroup2 mount: the group
    is made, joined and removed; with no devices cgroup the root and /dev are nodev, so a
    block device the container makes cannot be opened while /dev/null and /dev/zero work."""
    script = ("grep ^0:: /proc/self/cgroup; echo x > /dev/null && head -c 3 /dev/zero | wc -c; "
              "set -- $(awk 'NR > 2 {print $1, $2; exit}' /proc/partitions); "
              "mknod /disk b $1 $2 && echo made && head -c 1 /disk > /dev/null && echo read")
    program = ("import sys; from pathlib import Path; import reference_impl.confinement.cgroups as cg; "
               f"cg.ROOT = Path({str(UNIFIED)!r}); from reference_impl.cli import main; "
               f"sys.exit(main(['run', '--name', sys.argv[1], 'base:latest', 'sh', '-c', {script!r}]))")
    name = f"v2-{secrets.token_hex(4)}"
    result = subprocess.run([sys.executable, "-c", program, name], env=strata.env, capture_output=True,
                            text=True, timeout=120)
    cid = strata("inspect", "-f", "{{.Id}}", name).stdout.strip()
    strata("rm", name)
    lines = result.stdout.split()
    assert lines[0] == f"0::/strata/{cid}", result
    assert lines[1:] == ["3", "made"], result
    assert "Permission denied" in result.stderr
    assert not (UNIFIED / "strata" / cid).exists()


def test_descriptors_of_the_starter_reach_neither_the_container_nor_the_shim(strata):
    """The leaked-descriptor escape (runc's CVE-2024-21626 family): a descriptor of the host's
    root that the caller of `strata run` holds must not cross into the container, where
    /proc/self/fd/N/… would read the host. Nor may the shim keep the caller's descriptors:
    a pipe it held would keep its reader waiting for as long as the container runs."""
    secret = strata.root / f"host-secret-{secrets.token_hex(4)}"
    secret.write_text("s3cret")
    root_fd = os.open("/", os.O_RDONLY)
    read_end, write_end = os.pipe()
    try:
        escape = strata("run", "--rm", "base", "cat", f"/proc/self/fd/{root_fd}{secret}", pass_fds=(root_fd,))
        assert escape.returncode != 0 and "s3cret" not in escape.stdout, escape
        started = strata("run", "-d", "--name", "keeper", "base", "sleep", "300", pass_fds=(write_end,))
        assert started.returncode == 0, started.stderr
        os.close(write_end)
        write_end = -1
        ready, _, _ = select.select([read_end], [], [], 5)
        assert ready and os.read(read_end, 1) == b"", "the shim holds the caller's pipe"
    finally:
        for fd in (root_fd, read_end, write_end):
            if fd >= 0:
                os.close(fd)


def test_a_terminal_container_cannot_reach_the_hosts_terminals(strata):
    """Before, `run -t` and `exec -t` made their terminal on the host's devpts and showed the
    container the host's /dev/pts: it could read and type into every terminal of the host. A
    terminal of the host's, by its number, must be out of reach from both."""
    terminals = [os.openpty() for _ in range(3)]  # the host's /dev/pts/N, N > 0 whatever else is open
    master, slave = terminals[-1]
    number = os.ttyname(slave).rsplit("/", 1)[1]
    try:
        typed = strata("run", "--rm", "-t", "base", "sh", "-c", f"echo typed > /dev/pts/{number}; ls /dev/pts")
        assert typed.stdout.splitlines()[-1].split() == ["0", "ptmx"], typed  # its own terminal only
        started = strata("run", "-d", "--name", "calm", "base", "sleep", "300")
        assert started.returncode == 0, started.stderr
        strata("exec", "-t", "calm", "sh", "-c", f"echo typed > /dev/pts/{number}")
        ready, _, _ = select.select([master], [], [], 0.5)
        assert not ready, os.read(master, 100)
    finally:
        for pair in terminals:
            for fd in pair:
                os.close(fd)
