"""docker's cli/command/formatter: which ``--format`` is a table, and how list
commands pre-format theirs."""
from __future__ import annotations


TABLE_FORMAT_KEY = "table"


def is_table(fmt: str) -> bool:
    """docker's Format.IsTable: the format starts with "table"."""
    return fmt.startswith(TABLE_FORMAT_KEY)


def strip_table(fmt: str) -> str:
    """docker's preFormat for a table format: drop the "table" prefix, trim
    spaces, and turn the two-character sequences ``\\t`` and ``\\n`` into a
    tab and a newline."""
    if is_table(fmt):
        fmt = fmt[len(TABLE_FORMAT_KEY) :]
    return fmt.strip(" ").replace("\\t", "\t").replace("\\n", "\n")


def pre_format(fmt: str) -> str:
    """docker's Context.preFormat for list commands (ps, images, ...):
    "table ..." loses its prefix, "json" becomes ``{{json .}}``, then spaces
    are trimmed and ``\\t``/``\\n`` escapes replaced.  (``docker inspect``
    does not do this: it parses --format as given.)"""
    if is_table(fmt):
        fmt = fmt[len(TABLE_FORMAT_KEY) :]
    elif fmt == "json":
        fmt = "{{json .}}"
    return fmt.strip(" ").replace("\\t", "\t").replace("\\n", "\n")
