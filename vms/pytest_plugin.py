"""pytest options of the suite's VMs (loaded through the ``pytest11`` entry point)."""


def pytest_addoption(parser):
    group = parser.getgroup("strata", "strata conformance suite")
    group.addoption("--keep-vms", action="store_true", default=False,
                    help="leave the Vagrant VM of vagrant:<impl> running at the end (the next "
                         "run re-syncs the project into it and reuses it)")


def pytest_configure(config):
    if config.getoption("--keep-vms"):
        import vms.targets
        vms.targets.KEEP = True
