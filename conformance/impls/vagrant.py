"""Any implementation inside the suite's Vagrant VM: ``vagrant:<name>``.

`in_vagrant(inner)` is <name>'s record (CLI argv, environment, messages, expectations,
capabilities) with the VM's testinfra host in place of this machine:
``paramiko://default?ssh_config=<state>/ssh_config`` (root; one SSH connection per
process, which also carries the files and forwarded ports of conformance/remote.py).
The project is synced to the same path in the guest, so the `strata` record's CLI
path is valid there too.

The run's set-up (`prepare`, called by the controller and every worker) acquires the
machine (vms/driver.py: up once, under a lock); `finish` (the controller, after the
engine leak check) releases it, which destroys it unless ``--keep-vms`` was given.
A private instance (whole-store checks) is the inner implementation's own, made with
the VM host's primitives. An inner implementation whose run needs a set-up on this
machine (podman's files, an API service) is reported missing, with the reason.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, fields, replace
from typing import Iterator

from conformance.impls import hosts
from conformance.impls.base import Implementation

KEEP = False  # set by --keep-vms (vms/pytest_plugin.py)


def _record_fields(impl: Implementation) -> dict:
    """What every implementation's record holds (the base class's fields)."""
    return {f.name: getattr(impl, f.name) for f in fields(Implementation)}


@dataclass(frozen=True)
class InVagrant(Implementation):
    inner: Implementation | None = None
    run_tag: str = ""                 # the run whose machine this record holds, once acquired
    unavailable: str | None = None    # why the machine did not come up

    def probe(self) -> str | None:
        if self.inner.needs_local_run_setup:
            return f"{self.inner.name} needs a per-run set-up that does not run inside the VM yet"
        if self.unavailable is not None:
            return self.unavailable
        if not self.host.url.startswith("paramiko://"):
            return "the VM is not up (the run's set-up did not acquire it)"
        out = self.run(("version",), timeout=60)
        if out.rc != 0:
            return (f"{self.argv[0]} does not answer in the VM (exit {out.rc}): "
                    f"{(out.stderr or out.stdout).strip()[-500:]}")
        return None

    def prepare(self, run: str) -> Implementation:
        if self.inner.needs_local_run_setup:
            return self
        from vms.driver import Machine
        try:
            ssh_config = Machine().acquire(run)
        except Exception as exc:  # noqa: BLE001 - the implementation is missing, with the reason
            return replace(self, unavailable=f"the VM did not come up: {exc}")
        return replace(self, host=hosts.Testinfra(f"paramiko://default?ssh_config={ssh_config}&timeout=60"),
                       run_tag=run)

    def finish(self) -> list[str]:
        if not self.run_tag:
            return []
        from vms.driver import Machine
        host = hosts.forget(self.host.url)
        if host is not None:  # close this process's connection before the machine goes
            with contextlib.suppress(Exception):
                host.backend.client.close()
        return Machine().release(self.run_tag, keep=KEEP)  # what its destroy left behind

    @contextlib.contextmanager
    def private_instance(self, label: str) -> Iterator[Implementation]:
        """The inner implementation's private instance, on the VM."""
        there = replace(self.inner, **_record_fields(self))
        with there.private_instance(label) as private:
            yield replace(self, **_record_fields(private))


def in_vagrant(inner: Implementation) -> InVagrant:
    """`inner`'s record with the VM as its host (until the run's set-up has brought it up:
    vagrant://default)."""
    return InVagrant(**{**_record_fields(inner), "name": f"vagrant:{inner.name}",
                        "host": hosts.Testinfra("vagrant://default")}, inner=inner)
