"""Printing like the docker CLI: aligned tables, --format templates, JSON for inspect."""
from __future__ import annotations

import json
import sys


def table(header: list[str], rows: list[list[str]]) -> None:
    from reference_impl import gotemplate
    sys.stdout.write(gotemplate.tabulate([header, *rows]))


def formatted(fmt: str, records: list[dict], default_columns: dict[str, str] | None = None,
              go_type: str = "") -> None:
    """`--format`: one line per record; with a `table` prefix, a header row and alignment.
    go_type: the Go struct docker formats these records from (a field it lacks is an error)."""
    from reference_impl import gotemplate
    if go_type:
        records = [gotemplate.Struct(r, go_type) for r in records]
    if gotemplate.is_table(fmt):
        body = gotemplate.strip_table(fmt) or "\t".join(f"{{{{.{f}}}}}" for f in (default_columns or {}))
        template = gotemplate.parse(body)
        header_template = gotemplate.parse(body)
        header = header_template.execute(_HeaderNames(default_columns or {}))
        rows = [template.execute(r).split("\t") for r in records]
        sys.stdout.write(gotemplate.tabulate([header.split("\t"), *rows]))
        return
    template = gotemplate.parse(fmt)
    for record in records:
        sys.stdout.write(template.execute(record) + "\n")


class _HeaderNames(dict):
    """Data for rendering a table header: every field renders as its column title."""

    def __init__(self, titles: dict[str, str]):
        super().__init__()
        self.titles = titles

    def __missing__(self, key):
        return self.titles.get(key, key.upper())

    def __contains__(self, key):
        return True

    def get(self, key, default=None):
        return self[key]


def inspect_json(values: list[dict]) -> None:
    sys.stdout.write(json.dumps(values, indent=4) + "\n")


def inspected(values: list[dict], fmt: str | None) -> None:
    """What `X inspect` prints: each value through --format, or all of them as JSON."""
    if not fmt:
        inspect_json(values)
        return
    from reference_impl import gotemplate
    template = gotemplate.parse(fmt)
    for value in values:
        sys.stdout.write(template.execute(value) + "\n")


def prune_report(kind: str, deleted: list[str], space_reclaimed: int | None) -> None:
    """What `X prune` prints: "Deleted <kind>:" and one line each, then the space reclaimed
    (None: docker prints no such line, as for networks)."""
    if deleted:
        print(f"Deleted {kind}:")
        for line in deleted:
            print(line)
        print()
    if space_reclaimed is not None:
        from reference_impl import humanize
        print(f"Total reclaimed space: {humanize.size(space_reclaimed)}")


def truncate_id(full: str, no_trunc: bool) -> str:
    return full if no_trunc else full.removeprefix("sha256:")[:12]
