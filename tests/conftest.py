def pytest_terminal_summary(terminalreporter, config):
    """Print how many deviating implementations the suite caught."""
    if hasattr(config, "workerinput"):
        return
    verdicts = [dict(r.user_properties)["strata_deviant_caught"]
                for key in ("passed", "failed")
                for r in terminalreporter.stats.get(key, [])
                if r.when == "call" and "strata_deviant_caught" in dict(r.user_properties)]
    total = sum(1 for key in ("passed", "failed") for r in terminalreporter.stats.get(key, [])
                if r.when == "call" and "test_deviating_implementation_is_caught" in r.nodeid)
    if total:
        terminalreporter.section("suite sensitivity")
        terminalreporter.line(f"suite sensitivity: {sum(verdicts)} of {total} deviating implementations caught")
