"""A pure-Python implementation of the subset of Go's ``text/template`` that
docker users write in ``--format``, with docker's template functions and Go's
value formatting.

Public API
----------
``render(template, data) -> str``
    Parse and execute in one go.
``parse(template) -> Template`` / ``Template.execute(data) -> str``
    Parse once, execute once per row.  ``Template.execute_header(data)`` runs
    the template with docker's *header functions* (``json``, ``split``,
    ``join``, ``title``, ``lower``, ``upper`` and ``truncate`` return their
    string argument unchanged), which docker uses to render a table header.
``TemplateError``
    Raised for parse and execution errors.  The message follows Go:
    ``template: :1: unexpected "}" in operand`` (parse) and
    ``template: :1:2: executing "" at <.X.Y>: nil pointer evaluating
    interface {}.Y`` (execution).  ``TemplateError.partial`` holds the output
    written before an execution error (Go writes progressively).
``is_table(fmt)``, ``strip_table(fmt)``, ``pre_format(fmt)``
    docker's ``Format.IsTable`` and ``Context.preFormat`` for list commands.
``tabwrite(text, ...)`` / ``tabulate(rows, ...)``
    Go's ``text/tabwriter`` elastic-tabstop algorithm as docker configures it
    (``tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)``: minwidth 10, tabwidth 1,
    padding 3, pad with spaces, no flags).

Layout
------
The package mirrors Go's own files, one concern each:

* ``lex`` (parse/lex.go), ``node`` (parse/node.go), ``parser`` (parse/parse.go);
* ``exec`` (exec.go), ``funcs`` (funcs.go and docker's template functions),
  ``template`` (``Template``, ``parse``, ``render``);
* ``fmt``, ``strconv`` and ``json``: the parts of Go's fmt, strconv and
  encoding/json that printing values needs;
* ``tabwriter`` (text/tabwriter) and ``formatter`` (docker's table formats);
* ``values``: the data model below and ``TemplateError``.

Data model
----------
``data`` is JSON-like and is treated like docker's raw inspect fallback, i.e.
a value decoded by ``encoding/json`` into ``interface{}``:

* ``dict`` is ``map[string]interface {}``: printed ``map[k1:v1 k2:v2]`` with
  keys sorted, ranged over in sorted key order; a missing key yields
  "no value" (printed ``<no value>``; ``missingkey="error"`` makes it an error
  as ``docker inspect``'s raw fallback does).
* ``None`` is a nil interface: printed ``<nil>`` inside a map, list or by
  ``printf``/``print``, but ``<no value>`` when it is the result of an action
  (Go turns a nil ``interface{}`` result of a pipeline into an invalid
  value); field access through it is an error (``nil pointer evaluating
  interface {}.X``).
* ``list``/``tuple`` is ``[]interface {}``, ``str`` a string, ``bool`` a
  bool, ``int`` an integer (printed without ``.0``; docker's typed structs use
  int64), ``float`` a float64 printed with Go's ``%v`` (shortest digits,
  exponent form when exp < -4 or exp >= 21 is *not* the rule: ``%v`` uses
  ``%g`` with shortest precision, so 1234567.0 prints ``1.234567e+06``).

Deviations (documented on purpose):

* ``json`` keeps the insertion order of dict keys (Go sorts map keys, but
  docker's inspect data are structs whose fields print in declaration order;
  pass dicts in the order docker's API emits them).  Like docker 28's
  ``json`` function, HTML characters are *not* escaped (``SetEscapeHTML
  (false)``); ``\\b`` and ``\\f`` use the short escapes of Go >= 1.22.
* ``join`` accepts any list whose items are all strings (docker's typed
  fields are ``[]string``; a Go ``[]interface {}`` would be rejected).
* Go structs (printed ``{v1 v2}``), methods, ``call``, complex numbers and
  custom delimiters are not modelled.
"""

import importlib

# Each public name and its module, imported on first use (PEP 562): a command that never
# formats (run, rm…) does not pay for the lexer, parser and executor.
_HOME = {
    "go_format": "fmt", "go_sprintf": "fmt",
    "is_table": "formatter", "pre_format": "formatter", "strip_table": "formatter",
    "go_json": "json",
    "tabulate": "tabwriter", "tabwrite": "tabwriter",
    "Template": "template", "parse": "template", "render": "template",
    "NO_VALUE": "values", "Row": "values", "Struct": "values", "TemplateError": "values",
}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_HOME))

__all__ = [
    "TemplateError",
    "Template",
    "parse",
    "render",
    "is_table",
    "strip_table",
    "pre_format",
    "tabwrite",
    "tabulate",
    "go_format",
    "go_sprintf",
    "go_json",
    "NO_VALUE",
    "Row",
    "Struct",
]
