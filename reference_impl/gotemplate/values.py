"""The data a template sees, as Go sees a value decoded by encoding/json into
``interface{}`` (see the package docstring), and the one error type."""
from __future__ import annotations


class TemplateError(Exception):
    """A parse or execution error, with Go-like text starting "template: "."""

    def __init__(self, message: str, partial: str = ""):
        super().__init__(message)
        self.partial = partial


class _NoValue:
    """Go's invalid reflect.Value (printed ``<no value>``)."""

    _inst = None

    def __new__(cls):
        if cls._inst is None:
            cls._inst = super().__new__(cls)
        return cls._inst

    def __repr__(self):
        return "NO_VALUE"

    def __bool__(self):
        return False


NO_VALUE = _NoValue()


class Row(dict):
    """A row of a docker list command (``ps``, ``images``, ...).

    docker's row contexts implement ``MarshalJSON`` with ``json.Marshal`` of
    a ``map[string]any``, so ``{{json .}}`` on a row (and ``--format json``)
    sorts the keys and HTML-escapes ``<``, ``>`` and ``&`` (``"<none>"`` is
    written ``"\u003cnone\u003e"``), unlike the ``json`` of any other
    value.  Otherwise a Row behaves as a plain dict."""


def type_name(v) -> str:
    if v is None or v is NO_VALUE:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, (list, tuple)):
        return "[]interface {}"
    return type(v).__name__


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_true(v) -> bool:
    """Go's isTrue (truth of a value in if/with/and/or/not)."""
    if v is None or v is NO_VALUE:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, (str, list, tuple, dict)):
        return len(v) > 0
    return True


def sort_key(k):
    if isinstance(k, str):
        return (1, k.encode("utf-8", errors="surrogatepass"))
    if isinstance(k, (int, float)):
        return (0, k)
    return (2, str(k))
