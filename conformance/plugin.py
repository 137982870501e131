"""The strata pytest plugin: implementations, per-check transcripts, outcomes, leak check.

Loaded through the ``pytest11`` entry point. Every check that takes the ``impl``
fixture (directly or through ``cli``) runs once per selected implementation,
with ids like ``test_x[docker]`` in a deterministic order.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from conformance import impls, known, leaks, subsets
from conformance.cli import HarnessError
from conformance.fixtures import PREFIX, TRANSCRIPT, host_for, run_uid
from conformance.naming import run_tag
from conformance.results import TRANSCRIPT_SECTION, Outcome, ResultLog, host_environment, now

pytest_plugins = ["conformance.fixtures"]

_LOG = pytest.StashKey[ResultLog]()
_IMPLS = pytest.StashKey[list]()
_MISSING = pytest.StashKey[dict]()
_LEAKS = pytest.StashKey[list]()
_REPORT = pytest.StashKey[object]()
_RECORDS = pytest.StashKey[dict]()  # name -> the implementation's record, set up for this run
_STARTED = pytest.StashKey[str]()


def pytest_addoption(parser):
    group = parser.getgroup("strata", "strata conformance suite")
    group.addoption("--impl", action="store", default=None, metavar="NAME[,NAME...]",
                    help=f"implementations to check (known: {', '.join(impls.known_names())}); "
                         "default: every one that answers on this machine")
    group.addoption("--require-impl", action="append", default=[], metavar="NAME",
                    help="make a missing implementation an error instead of a skip")
    group.addoption("--impl-file", action="append", default=[], metavar="TOML",
                    help="define more implementations (see conformance/impls/__init__.py)")
    group.addoption("--report-dir", action="store", default=None, metavar="DIR",
                    help="write results.json (records, environment fingerprint) and "
                         "junit-<impl>.xml for the reports here")
    group.addoption("--render-report", action="store", default=None, metavar="OUT",
                    help="with --report-dir DIR: render the HTML report of DIR's parent (the run "
                         "history this run joins) to OUT/index.html at the end of the session")
    group.addoption("--strict-expectations", action="store_true", default=False,
                    help="a check listed in conformance/impls/<impl>.expectations.toml that passes "
                         "is an error (a stale expectation) instead of a flagged pass")
    group.addoption("--subset", action="append", default=[], metavar="IMPL=NAME",
                    help="run only the checks listed in conformance/subsets/NAME.txt on the "
                         "implementations IMPL names (a name or a pattern like 'vagrant:*'); "
                         f"known subsets: {', '.join(subsets.names())}")
    group.addoption("--no-leak-check", action="store_true", default=False,
                    help="skip the end-of-session leak check (for nested runs of the suite)")


def _chosen(config) -> list[str] | None:
    chosen = config.getoption("--impl")
    if not chosen:
        return None
    names = [n.strip() for n in chosen.split(",") if n.strip()]
    for name in names:
        impls.load(name)  # unknown names are a usage error
    return sorted(dict.fromkeys(names))


def pytest_configure(config):
    if not hasattr(config, "workerinput") and getattr(config.option, "testrunuid", None) is None:
        # one id for the controller and every worker: names and the leak check use it
        config.option.testrunuid = uuid.uuid4().hex
    try:
        for path in config.getoption("--impl-file"):
            impls.add_file(path)
    except (OSError, KeyError, ValueError) as exc:
        raise pytest.UsageError(f"--impl-file: {exc}") from None
    try:
        chosen = _chosen(config)
        candidates = sorted({*(chosen if chosen is not None else impls.known_names()),
                             *config.getoption("--require-impl")})
        run = run_tag(run_uid(config))
        records, missing = {}, {}
        for name in candidates:
            if impls.is_known(name):
                # asked at once: a later record's set-up (a VM's, minutes) must not outlast
                # what this one started (strata-api's service exits when idle)
                records[name] = impls.load(name).prepare(run)
                missing[name] = records[name].missing_reason()
    except KeyError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_RECORDS] = records
    config.stash[_MISSING] = missing
    config.stash[_STARTED] = now()
    config.stash[_IMPLS] = chosen if chosen is not None else [n for n in candidates if missing.get(n) is None]
    for name in config.getoption("--require-impl"):
        if missing.get(name, "unknown implementation"):
            if not hasattr(config, "workerinput"):
                for record in records.values():  # no session will take them down
                    record.finish()
            raise pytest.UsageError(f"required implementation {name!r} is missing: "
                                    f"{missing.get(name, 'unknown implementation')}")
    config.stash[_LOG] = ResultLog()
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(_ResultCollector(config.stash[_LOG]), "strata-results")


def pytest_collection_modifyitems(config, items):
    try:
        chosen = subsets.parse(config.getoption("--subset"))
    except ValueError as exc:
        raise pytest.UsageError(f"--subset {exc}") from None
    if not chosen:
        return
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        impl_name = callspec.params.get("impl") if callspec else None
        (drop if subsets.outside(item.nodeid, impl_name, chosen) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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
    return request.config.stash[_RECORDS][name]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    callspec = getattr(item, "callspec", None)
    impl_name = callspec.params["impl"] if callspec and "impl" in callspec.params else None
    if impl_name:
        report.user_properties.append(("strata_impl", impl_name))
    if PREFIX in item.stash:
        report.user_properties.append(("strata_prefix", item.stash[PREFIX]))
    if report.failed:
        transcript = item.stash.get(TRANSCRIPT, None)
        if transcript is not None and transcript.results:
            report.sections.append((TRANSCRIPT_SECTION, transcript.render()))
    if report.when != "call" or report.skipped:
        return
    record = item.config.stash[_RECORDS].get(impl_name) if impl_name else None
    listed = known.lookup(item.nodeid, impl_name, record.expectations) if record else None
    expected = listed.reason if listed else None
    if listed:
        report.user_properties += [("strata_expected", expected), ("strata_reason_id", listed.reason_id)]
    if report.failed and call.excinfo is not None:
        if not call.excinfo.errisinstance(AssertionError):
            report.user_properties.append(("strata_outcome", Outcome.ERROR.value))
            return
        failed_at = known.failure_site(call.excinfo, item.path)
        report.user_properties.append(("strata_failed_at", failed_at))
        if listed and listed.covers(failed_at):
            # a known difference: shown as pytest's xfail, does not fail the run
            report.user_properties.append(("strata_outcome", Outcome.KNOWN.value))
            report.outcome = "skipped"
            report.wasxfail = f"known difference: {expected}"
        else:
            report.user_properties.append(("strata_outcome", Outcome.FAIL.value))
            if listed:  # listed, but this is not the difference it lists: a new failure
                report.sections.append(("strata: not the known difference",
                                        f"failed at {failed_at!r}; listed as failing at "
                                        f"{list(listed.fails_at)} ({expected})"))
    elif report.passed and expected:
        report.user_properties.append(("strata_unexpected_pass", True))
        if item.config.getoption("--strict-expectations"):
            report.user_properties.append(("strata_outcome", Outcome.ERROR.value))
            report.outcome = "failed"
            report.longrepr = (f"[unexpected pass] {item.nodeid} is listed in "
                               f"the expectations of {impl_name} ({expected}) but passes")
        else:
            report.wasxfail = f"unexpectedly passes: {expected}"


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
    records = config.stash[_RECORDS]
    report_dir = config.getoption("--report-dir")
    environment = host_environment()
    if report_dir:
        for name in config.stash[_IMPLS]:
            if not config.stash[_MISSING].get(name):
                environment["implementations"][name] = records[name].fingerprint()

    def take_down() -> list[str]:
        left = []
        for record in records.values():
            left += record.finish()
        return list(dict.fromkeys(left))

    found: list[leaks.Leak] = []
    if not config.getoption("--no-leak-check"):
        available = [records[n] for n in config.stash[_IMPLS] if not config.stash[_MISSING].get(n)]
        found = leaks.check(available, host_for, run, before_host=take_down)
        config.stash[_LOG].attribute(found)
        if found:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        take_down()
    config.stash[_LEAKS] = found
    if report_dir:
        config.stash[_LOG].write(Path(report_dir), run, found, environment, config.stash[_STARTED])
        out = config.getoption("--render-report")
        if out:
            from reports.render import render  # the report reads what the suite wrote
            try:
                config.stash[_REPORT] = render(Path(report_dir).parent, Path(out))
            except Exception as exc:  # the harness broke, not the implementations
                config.stash[_REPORT] = f"not rendered: {exc}"
                session.exitstatus = pytest.ExitCode.INTERNAL_ERROR


def pytest_terminal_summary(terminalreporter, config):
    if hasattr(config, "workerinput"):
        return
    if _REPORT in config.stash:
        terminalreporter.line(f"strata report: {config.stash[_REPORT]}")
    project = config.stash[_LOG].project_tests
    if project:
        terminalreporter.section("project tests (outside the suite)")
        terminalreporter.line(", ".join(f"{n} {o}" for o, n in sorted(project.items())))
    counts = config.stash[_LOG].counts()
    if counts:
        terminalreporter.section("strata outcomes per implementation")
        for name, c in sorted(counts.items()):
            terminalreporter.line(
                f"{name}: {c['pass']} pass, {c[Outcome.KNOWN.value]} known difference, "
                f"{c['fail']} fail, {c['error']} error, {c['skip']} skip")
        by_reason = config.stash[_LOG].known_by_reason()
        if by_reason:
            terminalreporter.section("strata known differences by reason")
            for name, reasons in by_reason.items():
                terminalreporter.line(f"{name}: {sum(reasons.values())} known differences, {len(reasons)} reasons")
                for reason, n in reasons.most_common():
                    terminalreporter.line(f"  {n:3d}  {reason[:110]}")
        unexpected = config.stash[_LOG].unexpected_passes()
        if unexpected:
            terminalreporter.section("strata: listed as known differences but pass", yellow=True)
            for record in unexpected:
                terminalreporter.line(f"{record['check']}: {record['expected_reason']}")
    found = config.stash.get(_LEAKS, [])
    if found:
        terminalreporter.section("strata leak check: FAILED", red=True)
        for leak in found:
            terminalreporter.line(leak.text())
    elif not config.getoption("--no-leak-check"):
        terminalreporter.line("strata leak check: nothing left behind")
