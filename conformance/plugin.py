"""The strata pytest plugin: implementations, per-check transcripts, outcomes, leak check.

Loaded through the ``pytest11`` entry point. Every check that takes the ``impl``
fixture (directly or through ``cli``) runs once per selected implementation,
with ids like ``test_x[docker]`` in a deterministic order.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from conformance import leaks, targets
from conformance.cli import HarnessError
from conformance.fixtures import TRANSCRIPT, host_for, run_uid
from conformance.naming import run_tag
from conformance.results import Outcome, ResultLog

pytest_plugins = ["conformance.fixtures"]

_LOG = pytest.StashKey[ResultLog]()
_IMPLS = pytest.StashKey[list]()
_MISSING = pytest.StashKey[dict]()
_LEAKS = pytest.StashKey[list]()


def pytest_addoption(parser):
    group = parser.getgroup("strata", "strata conformance suite")
    group.addoption("--impl", action="store", default=None, metavar="NAME[,NAME...]",
                    help=f"implementations to check (known: {', '.join(targets.known_names())}); "
                         "default: every one that answers on this machine")
    group.addoption("--require-impl", action="append", default=[], metavar="NAME",
                    help="make a missing implementation an error instead of a skip")
    group.addoption("--impl-file", action="append", default=[], metavar="TOML",
                    help="define more implementations (see conformance/targets.py)")
    group.addoption("--report-dir", action="store", default=None, metavar="DIR",
                    help="write results.json for the reports here")
    group.addoption("--no-leak-check", action="store_true", default=False,
                    help="skip the end-of-session leak check (for nested runs of the suite)")


def _selected(config) -> list[str]:
    chosen = config.getoption("--impl")
    if chosen:
        names = [n.strip() for n in chosen.split(",") if n.strip()]
        for name in names:
            targets.load(name)  # unknown names are a usage error
        return sorted(dict.fromkeys(names))
    return [n for n in targets.known_names() if config.stash[_MISSING].get(n) is None]


def pytest_configure(config):
    if not hasattr(config, "workerinput") and getattr(config.option, "testrunuid", None) is None:
        # one id for the controller and every worker: names and the leak check use it
        config.option.testrunuid = uuid.uuid4().hex
    try:
        for path in config.getoption("--impl-file"):
            targets.add_file(path)
    except (OSError, KeyError, ValueError) as exc:
        raise pytest.UsageError(f"--impl-file: {exc}") from None
    missing = {}
    for name in targets.known_names():
        missing[name] = targets.load(name).missing_reason()
    config.stash[_MISSING] = missing
    try:
        config.stash[_IMPLS] = _selected(config)
    except KeyError as exc:
        raise pytest.UsageError(str(exc)) from None
    for name in config.getoption("--require-impl"):
        if missing.get(name, "unknown implementation"):
            raise pytest.UsageError(f"required implementation {name!r} is missing: "
                                    f"{missing.get(name, 'unknown implementation')}")
    config.stash[_LOG] = ResultLog()
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(_ResultCollector(config.stash[_LOG]), "strata-results")


def pytest_generate_tests(metafunc):
    if "impl" in metafunc.fixturenames:
        names = metafunc.config.stash[_IMPLS]
        metafunc.parametrize("impl", names, indirect=True, ids=names, scope="session")


@pytest.fixture(scope="session")
def impl(request):
    name = request.param
    reason = request.config.stash[_MISSING].get(name)
    if reason:
        if name in request.config.getoption("--require-impl"):
            raise HarnessError(f"required implementation {name} is missing: {reason}")
        pytest.skip(f"{name}: {reason}")
    return targets.load(name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    callspec = getattr(item, "callspec", None)
    if callspec and "impl" in callspec.params:
        report.user_properties.append(("strata_impl", callspec.params["impl"]))
    if report.when == "call" and report.failed and call.excinfo is not None:
        kind = Outcome.FAIL if call.excinfo.errisinstance(AssertionError) else Outcome.ERROR
        report.user_properties.append(("strata_outcome", kind.value))
    if report.failed:
        transcript = item.stash.get(TRANSCRIPT, None)
        if transcript is not None and transcript.results:
            report.sections.append(("strata transcript", transcript.render()))


class _ResultCollector:
    """Registered on the controller (or a -n 0 session): workers forward their reports here."""

    def __init__(self, log: ResultLog):
        self.log = log

    def pytest_runtest_logreport(self, report):
        self.log.add(report)


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):
        return  # workers: the controller checks once all of them have finished
    run = run_tag(run_uid(config))
    found: list[str] = []
    if not config.getoption("--no-leak-check"):
        available = [targets.load(n) for n in config.stash[_IMPLS] if not config.stash[_MISSING].get(n)]
        found = leaks.check(available, host_for, run)
        if found:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    config.stash[_LEAKS] = found
    report_dir = config.getoption("--report-dir")
    if report_dir:
        config.stash[_LOG].write(Path(report_dir), run, found)


def pytest_terminal_summary(terminalreporter, config):
    if hasattr(config, "workerinput"):
        return
    counts = config.stash[_LOG].counts()
    if counts:
        terminalreporter.section("strata outcomes per implementation")
        for name, c in sorted(counts.items()):
            terminalreporter.line(
                f"{name}: {c['pass']} pass, {c['fail']} fail, {c['error']} error, {c['skip']} skip")
    found = config.stash.get(_LEAKS, [])
    if found:
        terminalreporter.section("strata leak check: FAILED", red=True)
        for item in found:
            terminalreporter.line(item)
    elif not config.getoption("--no-leak-check"):
        terminalreporter.line("strata leak check: nothing left behind")
