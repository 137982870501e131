"""The suite's Vagrant VM, driven with python-vagrant.

One machine (``vms/Vagrantfile``, libvirt) serves a whole run: the first process of the
run that asks for it (the xdist controller, in pytest_configure) brings it up under a
FileLock; every worker then finds it up and only reads its ssh_config. Who uses the
machine is written down in its state directory (run id -> pid of the process that
asked first), so it is destroyed only when the last run using it lets go
(`release`), never by one worker while another runs checks, and runs that died
without letting go are noticed by their pid. `keep=True` (``--keep-vms``) leaves it
running for the next run, which re-syncs the project into it and reuses it.

Destroying it removes everything the machine made: the libvirt domain and its disk,
the box's base volume in the pool, and vagrant-libvirt's NAT network when no other
domain uses it.

    python -m vms.driver up | ssh-config | status | destroy     (by hand)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from filelock import FileLock

VMS_DIR = Path(__file__).resolve().parent
PROJECT = VMS_DIR.parent
STATE_ROOT = Path(os.environ.get("STRATA_VM_STATE", "/var/lib/strata/vms"))
VAGRANT_HOME = os.environ.get("VAGRANT_HOME", "/var/cache/strata/vagrant.d")
URI = "qemu:///system"
HOST_CLIS = ("docker",)      # clients copied from this host (install_host_clients)
NETWORK = "vagrant-libvirt"  # vagrant-libvirt's management network
DOMAIN = "strata-default"    # the Vagrantfile's libvirt prefix + Vagrant's machine name
UP_TIMEOUT = 900


def log(message: str) -> None:
    print(f"vms: {message}", file=sys.stderr, flush=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (our own finished child) is gone as well
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def host_setup(*args: str) -> None:
    """vms/host-setup.sh: idempotent (installs nothing and starts nothing twice); `stop`
    ends only the daemons it started itself."""
    out = subprocess.run(["bash", str(VMS_DIR / "host-setup.sh"), *args], capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"vms/host-setup.sh {' '.join(args)} failed (exit {out.returncode}):\n"
                           f"{(out.stderr or out.stdout)[-3000:]}")


def _virsh(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(["virsh", "-c", URI, *args], capture_output=True, text=True, check=check)


def _machine_volumes() -> list[str]:
    """The machine's volumes in the pool: its disk(s) and the suite's box images
    (vagrant-libvirt uploads a box as `<box>_vagrant_box_image_<n>_box.img`)."""
    return [v for v in _virsh("vol-list", "default").stdout.split()
            if v.startswith((f"{DOMAIN}.", "strata-bookworm-"))]


def _network_unused() -> bool:
    """vagrant-libvirt's network exists and no domain is left to use it."""
    return _virsh("net-info", NETWORK).returncode == 0 and not _virsh("list", "--all", "--name").stdout.strip()


class Machine:
    def __init__(self, name: str = os.environ.get("STRATA_VM_NAME", "default"), state_root: Path = STATE_ROOT, project: Path = PROJECT):
        self.name = name
        self.dir = Path(state_root) / name
        self.project = Path(project)
        self.ssh_config = self.dir / "ssh_config"
        self.users_file = self.dir / "users.json"
        self.timings_file = self.dir / "timings.json"
        self.log_file = self.dir / "vagrant.log"

    # -- plumbing --------------------------------------------------------------------
    def env(self, box: str | None = None) -> dict[str, str]:
        env = {**os.environ,
               "VAGRANT_HOME": VAGRANT_HOME,
               "VAGRANT_CWD": str(VMS_DIR),
               "VAGRANT_DOTFILE_PATH": str(self.dir / ".vagrant"),
               "VAGRANT_DEFAULT_PROVIDER": "libvirt",
               "VAGRANT_CHECKPOINT_DISABLE": "1",
               "STRATA_PROJECT": str(self.project),
               "STRATA_VM_LOG": str(self.dir / "serial.log")}
        box = box or self._state().get("box")
        if box:
            env["STRATA_BOX"] = box
        return env

    def _vagrant(self, box: str | None = None):
        import vagrant
        cm = vagrant.make_file_cm(str(self.log_file), mode="a")
        return vagrant.Vagrant(str(VMS_DIR), env=self.env(box), out_cm=cm, err_cm=cm)

    def _state(self) -> dict:
        try:
            return json.loads(self.users_file.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def _save(self, state: dict) -> None:
        partial = self.users_file.with_suffix(".partial")
        partial.write_text(json.dumps(state, indent=1, sort_keys=True))
        partial.rename(self.users_file)

    def _timing(self, key: str, seconds: float) -> None:
        try:
            timings = json.loads(self.timings_file.read_text())
        except (FileNotFoundError, ValueError):
            timings = {}
        timings[key] = round(seconds, 1)
        self.timings_file.write_text(json.dumps(timings, indent=1, sort_keys=True))
        log(f"{key}: {seconds:.1f} s")

    def _lock(self) -> FileLock:
        self.dir.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.dir / "lock"))

    def running(self) -> bool:
        if not (self.dir / ".vagrant").exists():
            return False
        try:
            return self._vagrant().status()[0].state == "running"
        except Exception:  # noqa: BLE001 - no machine, no state: not running
            return False

    def build_box(self) -> str:
        start = time.monotonic()
        out = subprocess.run(["bash", str(VMS_DIR / "build-box.sh")], capture_output=True, text=True,
                             env={**os.environ, "VAGRANT_HOME": VAGRANT_HOME}, timeout=1800)
        with open(self.log_file, "a") as f:
            f.write(out.stderr)
        if out.returncode != 0:
            raise RuntimeError(f"vms/build-box.sh failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
        self._timing("box (build or cache)", time.monotonic() - start)
        box = out.stdout.strip().splitlines()[-1]
        self._prune_boxes(keep=box)
        return box

    def _prune_boxes(self, keep: str) -> None:
        """Boxes of older recipes: out of Vagrant's store and the cache."""
        env = {**os.environ, "VAGRANT_HOME": VAGRANT_HOME, "VAGRANT_CHECKPOINT_DISABLE": "1"}
        listed = subprocess.run(["vagrant", "box", "list"], capture_output=True, text=True, env=env).stdout
        for name in {line.split()[0] for line in listed.splitlines() if line.startswith("strata-bookworm-")}:
            if name != keep:
                subprocess.run(["vagrant", "box", "remove", "--force", "--all", name],
                               capture_output=True, env=env)
        cache = Path(os.environ.get("STRATA_BOX_CACHE", "/var/cache/strata/boxes"))
        for old in cache.glob("strata-bookworm-*.box"):
            if old.name != f"{keep}.box":
                old.unlink()

    def _write_ssh_config(self) -> None:
        # the suite logs in as root (provisioned with the vagrant user's key): commands,
        # SFTP and forwarded ports on one connection, files owned as the CLI sees them
        text = self._vagrant().ssh_config()
        lines = [("  User root" if line.strip().startswith("User ") else line) for line in text.splitlines()]
        partial = self.ssh_config.with_suffix(".partial")
        partial.write_text("\n".join(lines) + "\n")
        partial.rename(self.ssh_config)

    # -- what the suite uses ---------------------------------------------------------------
    def acquire(self, user: str) -> Path:
        """Bring the machine up unless it is; record `user`; return its ssh_config (root)."""
        with self._lock():
            state = self._state()
            users = {u: pid for u, pid in state.get("users", {}).items() if _alive(pid)}
            if user in users and self.ssh_config.exists():
                return self.ssh_config
            if not users:
                host_setup()  # libvirt's daemons up (a run before may have stopped them)
            if not users and not self.running():
                self._up(state)
            elif not users:
                log(f"reusing the kept VM in {self.dir}: syncing the project")
                if not self.ssh_config.exists():
                    self._write_ssh_config()
                self.sync_project()
                self.install_host_clients()
            if not self.ssh_config.exists():
                self._write_ssh_config()
                self.install_host_clients()
            state = self._state()
            state["users"] = {**users, user: os.getpid()}
            self._save(state)
            return self.ssh_config

    def install_host_clients(self) -> None:
        """The host's own CLIs into the guest, at the same path, where they are not Debian's:
        a record's argv (`docker`) then names the same client on both hosts. Here the docker
        CLI is 28.2.2 in /usr/local/bin, Debian's docker.io ships a 20.10 CLI, and the
        checks state what the 28 CLI prints (`[::]`, "No public port '80'")."""
        import shutil
        for name in HOST_CLIS:
            found = shutil.which(name)
            if not found or os.path.realpath(found).startswith(("/usr/bin/", "/bin/")):
                continue
            start = time.monotonic()
            subprocess.run(["rsync", "--times", "--perms", "--compress", "-e", f"ssh -F {self.ssh_config}",
                            os.path.realpath(found), f"default:{found}"],
                           check=True, capture_output=True, timeout=600)
            self._timing(f"copy {found}", time.monotonic() - start)

    def sync_project(self) -> None:
        """The project into the guest again (a kept VM, a new run): what `vagrant up` synced,
        with the Vagrantfile's excludes, over the suite's own ssh_config (no Vagrant start-up)."""
        start = time.monotonic()
        excludes = [".vagrant/", ".git/", ".venv/", "reports/history/", "reports/out/", "__pycache__/", "*.pyc"]
        subprocess.run(["rsync", "--archive", "--delete", "--copy-links",
                        *(f"--exclude={e}" for e in excludes),
                        "-e", f"ssh -F {self.ssh_config}", f"{self.project}/", f"default:{self.project}/"],
                       check=True, capture_output=True, timeout=600)
        self._timing("project rsync", time.monotonic() - start)

    def _up(self, state: dict) -> None:
        box = self.build_box()
        self._save({**state, "box": box, "users": {}})
        self.ssh_config.unlink(missing_ok=True)
        start = time.monotonic()
        log(f"vagrant up ({box}, libvirt/TCG); log in {self.log_file}")
        try:
            self._vagrant(box).up(provider="libvirt")
        except Exception as exc:
            tail = self.log_file.read_text(errors="replace")[-3000:] if self.log_file.exists() else ""
            self._destroy()
            raise RuntimeError(f"vagrant up failed: {exc}\n{tail}") from None
        self._timing("vagrant up", time.monotonic() - start)

    def release(self, user: str, keep: bool = False) -> list[str]:
        """`user` is done; destroy the machine when nobody uses it (unless `keep`).
        Returns what a destroy left behind (see `leftovers`)."""
        with self._lock():
            state = self._state()
            users = {u: pid for u, pid in state.get("users", {}).items() if _alive(pid) and u != user}
            self._save({**state, "users": users})
            if users:
                log(f"the VM stays up: still used by {', '.join(sorted(users))}")
            elif keep:
                log(f"the VM stays up (--keep-vms): {self.dir}")
            else:
                self._destroy()
                left = self.leftovers()
                host_setup("stop")  # the daemons vms/host-setup.sh started; systemd's stay
                return left
            return []

    def leftovers(self) -> list[str]:
        """What a destroyed machine must not leave: its domain, its volumes in the pool,
        vagrant-libvirt's network, a qemu process (empty when libvirt is not running)."""
        found = []
        if _virsh("version").returncode == 0:
            if _virsh("dominfo", DOMAIN).returncode == 0:
                found.append(f"libvirt domain {DOMAIN}")
            found += [f"libvirt volume {v}" for v in _machine_volumes()]
            if _network_unused():
                found.append(f"libvirt network {NETWORK}")
        procs = subprocess.run(["pgrep", "-af", f"qemu-system.*{DOMAIN}"], capture_output=True, text=True).stdout
        found += [f"process {line}" for line in procs.splitlines()]
        return found

    def destroy(self) -> None:
        with self._lock():
            self._destroy()

    def _destroy(self) -> None:
        start = time.monotonic()
        domain = DOMAIN
        existed = (self.dir / ".vagrant").exists() or _virsh("dominfo", domain).returncode == 0
        if (self.dir / ".vagrant").exists():
            try:
                self._vagrant().destroy()
            except Exception as exc:  # noqa: BLE001 - cleaned up by hand below
                log(f"vagrant destroy failed ({exc}); removing what is left by hand")
        if _virsh("dominfo", domain).returncode == 0:
            _virsh("destroy", domain)
            _virsh("undefine", domain, "--remove-all-storage")
        for volume in _machine_volumes():
            _virsh("vol-delete", "--pool", "default", volume)
        if _network_unused():
            _virsh("net-destroy", NETWORK)
            _virsh("net-undefine", NETWORK)
        for leftover in (".vagrant", "ssh_config", "users.json", "serial.log"):
            path = self.dir / leftover
            if path.is_dir():
                subprocess.run(["rm", "-rf", str(path)])
            else:
                path.unlink(missing_ok=True)
        if existed:
            self._timing("vagrant destroy", time.monotonic() - start)


def main(argv: list[str] | None = None) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m vms.driver", description=__doc__.split("\n")[0])
    parser.add_argument("verb", choices=["up", "ssh-config", "status", "destroy"])
    parser.add_argument("--name", default=os.environ.get("STRATA_VM_NAME", "default"))
    args = parser.parse_args(argv)
    machine = Machine(args.name)
    if args.verb == "up":  # held by this shell's user "manual" until `destroy`
        print(machine.acquire(f"manual-{os.getppid()}"))
    elif args.verb == "ssh-config":
        print(machine.ssh_config.read_text(), end="")
    elif args.verb == "status":
        print(json.dumps({"running": machine.running(), **machine._state()}, indent=1))
    else:
        machine.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
