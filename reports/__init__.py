"""Nightly reports: a history of runs (results.json per run, written by the suite's
--report-dir) rendered as static HTML, and the `nightly` entry point that makes them.

    python -m reports render HISTORY_DIR OUT_DIR [--last N]
    python -m reports.nightly [--history DIR] [--out DIR] [--keep N] [-- PYTEST ARGS]
"""
