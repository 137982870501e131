"""Implementations inside the suite's Vagrant VM: ``vagrant:<name>``.

`in_vagrant(record)` is the local record of <name> (CLI argv, environment, messages,
expectations, capabilities) with the VM's testinfra host in place of the local one:
``paramiko://default?ssh_config=<state>/ssh_config`` (root; one SSH connection per
process, which also carries the files and forwarded ports of conformance/remote.py).
The project is synced to the same path in the guest, so the `strata` record's CLI
path is valid there too.

The run's set-up (`for_run`, called by the controller and every worker) acquires the
machine (vms/driver.py: up once, under a lock); `end_run` (the controller, after the
engine leak check) releases it, which destroys it unless ``--keep-vms`` was given.
A private instance (whole-store checks) is made on the VM: a store root of its own for
strata, a second dockerd in a network namespace of its own for Docker.
"""
from __future__ import annotations

import contextlib
import functools
import shlex
from dataclasses import replace
from typing import Iterator

from conformance import targets
from conformance.targets import Implementation

KEEP = False  # set by --keep-vms (vms/pytest_plugin.py)


def _host(impl: Implementation):
    from conformance.fixtures import host_for
    return host_for(impl)


def _probe(impl: Implementation) -> str | None:
    if not impl.host_url.startswith("paramiko://"):
        return "the VM is not up (the run's set-up did not acquire it)"
    envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(impl.env.items()))
    out = _host(impl).run(f"env {envs} timeout 60 {shlex.join(impl.argv)} version")
    if out.rc != 0:
        return f"{impl.argv[0]} does not answer in the VM (exit {out.rc}): {(out.stderr or out.stdout).strip()[-500:]}"
    return None


def _for_run(impl: Implementation, run: str) -> Implementation:
    from vms.driver import Machine
    try:
        ssh_config = Machine().acquire(run)
    except Exception as exc:  # noqa: BLE001 - the implementation is missing, with the reason
        reason = f"the VM did not come up: {exc}"
        return replace(impl, probe=lambda _impl: reason)
    return replace(impl, host_url=f"paramiko://default?ssh_config={ssh_config}&timeout=60",
                   end_run=functools.partial(_end_run, run=run))


def _end_run(impl: Implementation, run: str) -> list[str]:
    from vms.driver import Machine
    from conformance.fixtures import forget_host
    host = forget_host(impl.host_url)
    if host is not None:  # close this process's connection before the machine goes
        with contextlib.suppress(Exception):
            host.backend.client.close()
    return Machine().release(run, keep=KEEP)  # what its destroy left behind


def _remote_root(host, label: str) -> str:
    return host.check_output(f"mktemp -d /tmp/{shlex.quote(label)}-XXXXXX")


def _remote_cleanup(host, impl: Implementation, root: str) -> None:
    cli = shlex.join(impl.argv)
    envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(impl.env.items()))
    host.run(f"env {envs} sh -c {shlex.quote(f'{cli} rm -f $({cli} ps -aq) 2>/dev/null')}")
    host.run(f"awk '$2 ~ \"^{root}\" {{print $2}}' /proc/self/mounts | sort -r | xargs -r -n1 umount -l; "
             f"rm -rf {shlex.quote(root)}")


@contextlib.contextmanager
def private_strata(impl: Implementation, label: str) -> Iterator[Implementation]:
    """strata is daemonless: a store root of its own on the VM."""
    host = _host(impl)
    root = _remote_root(host, label)
    private = replace(impl, env={**impl.env, "STRATA_ROOT": f"{root}/store"})
    try:
        yield private
    finally:
        _remote_cleanup(host, private, root)


@contextlib.contextmanager
def private_dockerd(impl: Implementation, label: str) -> Iterator[Implementation]:
    """A second dockerd on the VM (own data root, exec root, socket, network namespace),
    as targets.private_dockerd does locally."""
    host = _host(impl)
    root = _remote_root(host, label)
    private = replace(impl, env={**impl.env, "DOCKER_HOST": f"unix://{root}/d.sock"})
    start = (f"setsid unshare --net -- sh -c 'ip link set lo up && exec dockerd --data-root {root}/data "
             f"--exec-root {root}/exec -H unix://{root}/d.sock --pidfile {root}/dockerd.pid "
             f"--shutdown-timeout=2' >{root}/dockerd.log 2>&1 </dev/null &")
    try:
        host.check_output(start)
        wait = (f"for i in $(seq 1 600); do DOCKER_HOST=unix://{root}/d.sock docker version "
                f"--format '{{{{.Server.Version}}}}' >/dev/null 2>&1 && exit 0; sleep 0.1; done; "
                f"tail -20 {root}/dockerd.log; exit 1")
        out = host.run(wait)
        if out.rc != 0:
            raise RuntimeError(f"private dockerd did not start in the VM: {out.stdout[-2000:]}")
        yield private
    finally:
        host.run(f"pid=$(cat {root}/dockerd.pid 2>/dev/null) && kill $pid && "
                 f"for i in $(seq 1 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done; "
                 f"kill -9 $pid 2>/dev/null; true")
        _remote_cleanup(host, replace(impl, argv=("true",)), root)


_PRIVATE = {targets.private_strata: private_strata, targets.private_dockerd: private_dockerd}


def in_vagrant(inner: Implementation) -> Implementation:
    """`inner`'s record with the VM as its host."""
    private = _PRIVATE.get(inner.private_instance)
    record = replace(
        inner,
        name=f"vagrant:{inner.name}",
        host_url="vagrant://default",  # until the run's set-up has brought the VM up
        probe=_probe,
        private_instance=private,
        capabilities=inner.capabilities if private else inner.capabilities - {"private-instance"},
        for_run=_for_run,
        end_run=None,
    )
    if inner.for_run is not None:  # per-run set-up on this machine (podman's files, an API service)
        reason = f"{inner.name} needs a per-run set-up that does not run inside the VM yet"
        record = replace(record, for_run=None, probe=lambda _impl: reason)
    return record
