"""pytest options of the suite's VMs (loaded through the ``pytest11`` entry point)."""
from __future__ import annotations

from pathlib import Path

import pytest

SMOKE_LIST = Path(__file__).resolve().parent / "smoke.txt"


def pytest_addoption(parser):
    group = parser.getgroup("strata", "strata conformance suite")
    group.addoption("--keep-vms", action="store_true", default=False,
                    help="leave the Vagrant VM of vagrant:<impl> running at the end (the next "
                         "run re-syncs the project into it and reuses it)")
    group.addoption("--vm-checks", choices=("all", "smoke"), default="all",
                    help="which checks run on vagrant:<impl>: all of them (default), or the smoke "
                         "subset in vms/smoke.txt with one registry kind (the other "
                         "implementations of the run are not affected)")


def pytest_configure(config):
    if config.getoption("--keep-vms"):
        import conformance.impls.vagrant
        conformance.impls.vagrant.KEEP = True


def smoke_checks() -> set[str]:
    """Node ids (without parameters) of the smoke subset."""
    lines = (line.strip() for line in SMOKE_LIST.read_text().splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def _on_vm(item) -> bool:
    callspec = getattr(item, "callspec", None)
    return bool(callspec) and str(callspec.params.get("impl", "")).startswith("vagrant:")


# the VM's checks go this far into the run, no further: the last of them should end with the others
VM_SPAN = 0.8


def spread(local: list, on_vm: list, span: float = VM_SPAN) -> list:
    """The run's order: on_vm's items placed evenly among the first `span` of local's. Grouped
    by implementation (pytest's order for a session-scoped parameter), the VM's checks — slow,
    and waiting on the VM more than on this host — would come last and run alone at the end."""
    if not local or not on_vm:
        return local + on_vm
    step = len(local) * span / len(on_vm)
    ordered, placed = [], 0
    for index, item in enumerate(local):
        while placed < len(on_vm) and index >= placed * step:
            ordered.append(on_vm[placed])
            placed += 1
        ordered.append(item)
    return ordered + on_vm[placed:]


@pytest.hookimpl(trylast=True)  # after pytest has grouped the items by parameter
def pytest_collection_modifyitems(config, items):
    if config.getoption("--vm-checks") == "smoke":
        _keep_smoke(config, items)
    items[:] = spread([i for i in items if not _on_vm(i)], [i for i in items if _on_vm(i)])


def _keep_smoke(config, items) -> None:
    smoke = smoke_checks()

    def in_smoke(item) -> bool:
        # one registry kind is enough to cross the forwarded port (all checks run both)
        return (item.nodeid.split("[", 1)[0] in smoke
                and "strata-registry" not in item.callspec.params.values())

    keep, drop = [], []
    for item in items:
        (drop if _on_vm(item) and not in_smoke(item) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
