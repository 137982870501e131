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

from __future__ import annotations

import math
import unicodedata
import urllib.parse
from decimal import Decimal
from typing import Any

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


class Struct(Row):
    """A row that stands for the Go struct docker formats it from (``ps``'s
    ``*formatter.ContainerContext``): a template naming a field it does not have fails
    as Go's does, instead of printing ``<no value>`` as for a map."""

    def __init__(self, fields: dict, go_type: str):
        super().__init__(fields)
        self.go_type = go_type


class _Missing:
    """Go's ``missingVal``: marks "no final (piped) argument"."""

    def __repr__(self):
        return "MISSING"


_MISSING = _Missing()

# --------------------------------------------------------------------------
# Lexer
# --------------------------------------------------------------------------

(
    T_ERROR,
    T_BOOL,
    T_CHAR,
    T_CHARCONST,
    T_COMMENT,
    T_ASSIGN,
    T_DECLARE,
    T_EOF,
    T_FIELD,
    T_IDENT,
    T_LDELIM,
    T_LPAREN,
    T_NUMBER,
    T_PIPE,
    T_RAWSTRING,
    T_RDELIM,
    T_RPAREN,
    T_SPACE,
    T_STRING,
    T_TEXT,
    T_VARIABLE,
    # keywords
    T_KEYWORD,
    T_BLOCK,
    T_BREAK,
    T_CONTINUE,
    T_DOT,
    T_DEFINE,
    T_ELSE,
    T_END,
    T_IF,
    T_NIL,
    T_RANGE,
    T_TEMPLATE,
    T_WITH,
) = range(34)

_KEYWORDS = {
    ".": T_DOT,
    "block": T_BLOCK,
    "break": T_BREAK,
    "continue": T_CONTINUE,
    "define": T_DEFINE,
    "else": T_ELSE,
    "end": T_END,
    "if": T_IF,
    "range": T_RANGE,
    "nil": T_NIL,
    "template": T_TEMPLATE,
    "with": T_WITH,
}

_SPACES = " \t\r\n"
LDELIM, RDELIM = "{{", "}}"


class _Item:
    __slots__ = ("typ", "val", "pos", "line")

    def __init__(self, typ, val, pos, line):
        self.typ, self.val, self.pos, self.line = typ, val, pos, line

    def __str__(self):
        if self.typ == T_EOF:
            return "EOF"
        if self.typ == T_ERROR:
            return self.val
        if self.typ > T_KEYWORD:
            return "<%s>" % self.val
        if len(self.val) > 10:
            return _go_quote(self.val[:10]) + "..."
        return _go_quote(self.val)

    def __repr__(self):
        return "Item(%d, %r, %d)" % (self.typ, self.val, self.pos)


def _is_alnum(c: str) -> bool:
    return c == "_" or c.isalpha() or (c.isdigit() and unicodedata.category(c) == "Nd")


def _is_printable_ascii(c: str) -> bool:
    return " " <= c <= "~"


def _lex(text: str) -> list[_Item]:
    """Tokenise ``text``; a lexing error becomes a final T_ERROR item."""
    items: list[_Item] = []
    n = len(text)
    pos = 0

    def line_at(p):
        return 1 + text.count("\n", 0, p)

    def emit(typ, start, end, val=None):
        items.append(_Item(typ, text[start:end] if val is None else val, start, line_at(start)))

    def error(msg, start):
        items.append(_Item(T_ERROR, msg, start, line_at(start)))
        return items

    def has_left_trim(p):
        return p + 1 < n and text[p] == "-" and text[p + 1] in _SPACES

    def at_right_delim(p):
        # returns (delim, trim)
        if p + 1 < n and text[p] in _SPACES and text[p + 1] == "-" and text.startswith(RDELIM, p + 2):
            return True, True
        if text.startswith(RDELIM, p):
            return True, False
        return False, False

    def at_terminator(p):
        if p >= n:
            return True
        c = text[p]
        if c in _SPACES or c in ".,|:()":
            return True
        return text.startswith(RDELIM, p)

    while True:
        # ---- text ----
        x = text.find(LDELIM, pos)
        if x < 0:
            if pos < n:
                emit(T_TEXT, pos, n)
            items.append(_Item(T_EOF, "", n, line_at(n)))
            return items
        end = x
        after = x + len(LDELIM)
        if has_left_trim(after):
            while end > pos and text[end - 1] in _SPACES:
                end -= 1
        if end > pos:
            emit(T_TEXT, pos, end)
        pos = after
        trim = has_left_trim(pos)
        after_marker = 2 if trim else 0
        # ---- comment ----
        if text.startswith("/*", pos + after_marker):
            start = x
            pos += after_marker + 2
            c = text.find("*/", pos)
            if c < 0:
                return error("unclosed comment", start)
            pos = c + 2
            delim, rtrim = at_right_delim(pos)
            if not delim:
                return error("comment ends before closing delimiter", start)
            if rtrim:
                pos += 2
            pos += len(RDELIM)
            if rtrim:
                while pos < n and text[pos] in _SPACES:
                    pos += 1
            continue
        emit(T_LDELIM, x, x + 2)
        pos += after_marker
        paren_depth = 0
        # ---- inside action ----
        while True:
            delim, rtrim = at_right_delim(pos)
            if delim:
                if paren_depth:
                    return error("unclosed left paren", pos)
                if rtrim:
                    pos += 2
                emit(T_RDELIM, pos, pos + 2)
                pos += 2
                if rtrim:
                    while pos < n and text[pos] in _SPACES:
                        pos += 1
                break
            if pos >= n:
                return error("unclosed action", pos)
            c = text[pos]
            start = pos
            if c in _SPACES:
                p = pos
                while p < n and text[p] in _SPACES:
                    p += 1
                # a space followed by "-}}" belongs to the closing delimiter
                if text[p - 1] in _SPACES and p < n and text[p] == "-" and text.startswith(RDELIM, p + 1):
                    p -= 1
                    if p == pos:
                        continue  # the single space is part of " -}}"
                emit(T_SPACE, pos, p)
                pos = p
            elif c == "=":
                emit(T_ASSIGN, pos, pos + 1)
                pos += 1
            elif c == ":":
                if pos + 1 >= n or text[pos + 1] != "=":
                    return error("expected :=", pos)
                emit(T_DECLARE, pos, pos + 2)
                pos += 2
            elif c == "|":
                emit(T_PIPE, pos, pos + 1)
                pos += 1
            elif c == '"':
                p = pos + 1
                while True:
                    if p >= n or text[p] == "\n":
                        return error("unterminated quoted string", start)
                    if text[p] == "\\":
                        if p + 1 >= n or text[p + 1] == "\n":
                            return error("unterminated quoted string", start)
                        p += 2
                        continue
                    if text[p] == '"':
                        break
                    p += 1
                emit(T_STRING, pos, p + 1)
                pos = p + 1
            elif c == "`":
                p = text.find("`", pos + 1)
                if p < 0:
                    return error("unterminated raw quoted string", start)
                emit(T_RAWSTRING, pos, p + 1)
                pos = p + 1
            elif c == "'":
                p = pos + 1
                while True:
                    if p >= n or text[p] == "\n":
                        return error("unterminated character constant", start)
                    if text[p] == "\\":
                        if p + 1 >= n or text[p + 1] == "\n":
                            return error("unterminated character constant", start)
                        p += 2
                        continue
                    if text[p] == "'":
                        break
                    p += 1
                emit(T_CHARCONST, pos, p + 1)
                pos = p + 1
            elif c == "$" or (c == "." and not (pos + 1 < n and "0" <= text[pos + 1] <= "9")):
                typ = T_VARIABLE if c == "$" else T_FIELD
                p = pos + 1
                if at_terminator(p):
                    emit(T_VARIABLE if c == "$" else T_DOT, pos, p)
                    pos = p
                    continue
                while p < n and _is_alnum(text[p]):
                    p += 1
                if not at_terminator(p):
                    return error("bad character %s" % _go_rune_repr(text[p]), start)
                emit(typ, pos, p)
                pos = p
            elif c in "+-" or "0" <= c <= "9" or c == ".":
                p = _scan_number(text, pos)
                if p < 0:
                    q = pos
                    while q < n and (_is_alnum(text[q]) or text[q] in "+-._"):
                        q += 1
                    return error("bad number syntax: %s" % _go_quote(text[pos:q]), start)
                emit(T_NUMBER, pos, p)
                pos = p
            elif _is_alnum(c):
                p = pos
                while p < n and _is_alnum(text[p]):
                    p += 1
                if not at_terminator(p):
                    return error("bad character %s" % _go_rune_repr(text[p]), start)
                word = text[pos:p]
                if word in _KEYWORDS:
                    emit(_KEYWORDS[word], pos, p)
                elif word in ("true", "false"):
                    emit(T_BOOL, pos, p)
                else:
                    emit(T_IDENT, pos, p)
                pos = p
            elif c == "(":
                emit(T_LPAREN, pos, pos + 1)
                paren_depth += 1
                pos += 1
            elif c == ")":
                emit(T_RPAREN, pos, pos + 1)
                paren_depth -= 1
                pos += 1
                if paren_depth < 0:
                    return error("unexpected right paren", start)
            elif _is_printable_ascii(c):
                emit(T_CHAR, pos, pos + 1)
                pos += 1
            else:
                return error("unrecognized character in action: %s" % _go_rune_repr(c), start)


def _scan_number(text: str, pos: int) -> int:
    """Go's lexer scanNumber; returns the end position or -1."""
    n = len(text)
    p = pos

    def accept(chars):
        nonlocal p
        if p < n and text[p] in chars:
            p += 1
            return True
        return False

    def accept_run(chars):
        nonlocal p
        while p < n and text[p] in chars:
            p += 1

    accept("+-")
    digits = "0123456789_"
    if accept("0"):
        if accept("xX"):
            digits = "0123456789abcdefABCDEF_"
        elif accept("oO"):
            digits = "01234567_"
        elif accept("bB"):
            digits = "01_"
    accept_run(digits)
    if accept("."):
        accept_run(digits)
    if len(digits) == 11 and accept("eE"):
        accept("+-")
        accept_run("0123456789_")
    if len(digits) == 23 and accept("pP"):
        accept("+-")
        accept_run("0123456789_")
    accept("i")
    if p < n and _is_alnum(text[p]):
        return -1
    return p


def _go_rune_repr(c: str) -> str:
    """Go's %#U: U+0023 '#'."""
    code = ord(c)
    s = "U+%04X" % code
    if c.isprintable():
        s += " '%s'" % c
    return s


# --------------------------------------------------------------------------
# Parse tree
# --------------------------------------------------------------------------


class _Node:
    pos = 0

    def __str__(self):  # pragma: no cover - overridden
        return ""


class _ListNode(_Node):
    def __init__(self, pos):
        self.pos = pos
        self.nodes: list[_Node] = []

    def __str__(self):
        return "".join(str(x) for x in self.nodes)


class _TextNode(_Node):
    def __init__(self, pos, text):
        self.pos, self.text = pos, text

    def __str__(self):
        return self.text


class _PipeNode(_Node):
    def __init__(self, pos):
        self.pos = pos
        self.is_assign = False
        self.decl: list[_VariableNode] = []
        self.cmds: list[_CommandNode] = []

    def __str__(self):
        s = ""
        if self.decl:
            s = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return s + " | ".join(str(c) for c in self.cmds)


class _ActionNode(_Node):
    def __init__(self, pos, pipe):
        self.pos, self.pipe = pos, pipe

    def __str__(self):
        return "{{%s}}" % self.pipe


class _CommandNode(_Node):
    def __init__(self, pos):
        self.pos = pos
        self.args: list[_Node] = []

    def __str__(self):
        return " ".join("(%s)" % a if isinstance(a, _PipeNode) else str(a) for a in self.args)


class _IdentifierNode(_Node):
    def __init__(self, pos, ident):
        self.pos, self.ident = pos, ident

    def __str__(self):
        return self.ident


class _VariableNode(_Node):
    def __init__(self, pos, ident: str):
        self.pos = pos
        self.ident = ident.split(".")

    def __str__(self):
        return ".".join(self.ident)


class _DotNode(_Node):
    def __init__(self, pos):
        self.pos = pos

    def __str__(self):
        return "."


class _NilNode(_Node):
    def __init__(self, pos):
        self.pos = pos

    def __str__(self):
        return "nil"


class _FieldNode(_Node):
    def __init__(self, pos, ident: str):
        self.pos = pos
        self.ident = ident[1:].split(".")  # ".A.B" -> ["A", "B"]

    def __str__(self):
        return "".join("." + i for i in self.ident)


class _ChainNode(_Node):
    def __init__(self, pos, node):
        self.pos, self.node = pos, node
        self.field: list[str] = []

    def __str__(self):
        s = "(%s)" % self.node if isinstance(self.node, _PipeNode) else str(self.node)
        return s + "".join("." + f for f in self.field)


class _BoolNode(_Node):
    def __init__(self, pos, val):
        self.pos, self.val = pos, val

    def __str__(self):
        return "true" if self.val else "false"


class _NumberNode(_Node):
    def __init__(self, pos, text):
        self.pos, self.text = pos, text
        self.is_int = self.is_uint = self.is_float = False
        self.int_val = 0
        self.float_val = 0.0

    def __str__(self):
        return self.text


class _StringNode(_Node):
    def __init__(self, pos, quoted, text):
        self.pos, self.quoted, self.text = pos, quoted, text

    def __str__(self):
        return self.quoted


class _BranchNode(_Node):
    keyword = ""

    def __init__(self, pos, pipe, lst, else_list):
        self.pos, self.pipe, self.list, self.else_list = pos, pipe, lst, else_list

    def __str__(self):
        s = "{{%s %s}}%s" % (self.keyword, self.pipe, self.list)
        if self.else_list is not None:
            s += "{{else}}%s" % self.else_list
        return s + "{{end}}"


class _IfNode(_BranchNode):
    keyword = "if"


class _RangeNode(_BranchNode):
    keyword = "range"


class _WithNode(_BranchNode):
    keyword = "with"


class _BreakNode(_Node):
    def __init__(self, pos):
        self.pos = pos

    def __str__(self):
        return "{{break}}"


class _ContinueNode(_Node):
    def __init__(self, pos):
        self.pos = pos

    def __str__(self):
        return "{{continue}}"


class _EndNode(_Node):
    def __init__(self, pos):
        self.pos = pos

    def __str__(self):
        return "{{end}}"


class _ElseNode(_Node):
    def __init__(self, pos):
        self.pos = pos

    def __str__(self):
        return "{{else}}"


class _TemplateNode(_Node):
    def __init__(self, pos, name, pipe):
        self.pos, self.name, self.pipe = pos, name, pipe

    def __str__(self):
        if self.pipe is None:
            return "{{template %s}}" % _go_quote(self.name)
        return "{{template %s %s}}" % (_go_quote(self.name), self.pipe)


# --------------------------------------------------------------------------
# Go literal helpers
# --------------------------------------------------------------------------

_SIMPLE_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _unquote(s: str) -> str:
    """strconv.Unquote for "..." `...` and '...' literals (raises ValueError)."""
    if len(s) < 2:
        raise ValueError("invalid syntax")
    q = s[0]
    if q != s[-1]:
        raise ValueError("invalid syntax")
    body = s[1:-1]
    if q == "`":
        if "`" in body:
            raise ValueError("invalid syntax")
        return body.replace("\r", "")
    if q not in "\"'":
        raise ValueError("invalid syntax")
    out: list[str] = []
    raw_bytes = bytearray()  # pending \x / octal bytes

    def flush_bytes():
        if raw_bytes:
            out.append(raw_bytes.decode("utf-8", errors="replace"))
            raw_bytes.clear()

    i = 0
    while i < len(body):
        c = body[i]
        if c == q:
            raise ValueError("invalid syntax")
        if c == "\n":
            raise ValueError("invalid syntax")
        if c != "\\":
            flush_bytes()
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= len(body):
            raise ValueError("invalid syntax")
        e = body[i]
        i += 1
        if e in _SIMPLE_ESC:
            flush_bytes()
            out.append(_SIMPLE_ESC[e])
        elif e == q:
            flush_bytes()
            out.append(e)
        elif e in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[e]
            hexd = body[i : i + size]
            if len(hexd) != size or any(h not in "0123456789abcdefABCDEF" for h in hexd):
                raise ValueError("invalid syntax")
            i += size
            v = int(hexd, 16)
            if e == "x":
                if q == "'":
                    flush_bytes()
                    out.append(chr(v))
                else:
                    raw_bytes.append(v)
            else:
                if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                    raise ValueError("invalid syntax")
                flush_bytes()
                out.append(chr(v))
        elif e in "01234567":
            octd = body[i - 1 : i + 2]
            if len(octd) != 3 or any(o not in "01234567" for o in octd):
                raise ValueError("invalid syntax")
            i += 2
            v = int(octd, 8)
            if v > 255:
                raise ValueError("invalid syntax")
            if q == "'":
                flush_bytes()
                out.append(chr(v))
            else:
                raw_bytes.append(v)
        else:
            raise ValueError("invalid syntax")
    flush_bytes()
    res = "".join(out)
    if q == "'" and len(res) != 1:
        raise ValueError("invalid syntax")
    return res


def _parse_go_int(text: str):
    """strconv.ParseInt(text, 0, 64) semantics (without the range check)."""
    t = text
    neg = False
    if t and t[0] in "+-":
        neg = t[0] == "-"
        t = t[1:]
    if not t:
        return None
    base = 10
    body = t
    prefixed = False
    if len(t) > 1 and t[0] == "0":
        p = t[1].lower()
        if p == "x":
            base, body, prefixed = 16, t[2:], True
        elif p == "o":
            base, body, prefixed = 8, t[2:], True
        elif p == "b":
            base, body, prefixed = 2, t[2:], True
        else:
            base, body, prefixed = 8, t[1:], True
    if "_" in body:
        # underscores must separate digits (or follow a base prefix)
        b2 = ("_" + body) if prefixed and (base != 8 or t[1:2].lower() == "o") else body
        if "__" in b2 or b2.endswith("_") or (b2.startswith("_") and not prefixed):
            return None
        body = body.replace("_", "")
    if not body:
        return None
    try:
        v = int(body, base)
    except ValueError:
        return None
    return -v if neg else v


def _parse_go_float(text: str):
    t = text
    if "_" in t:
        return None
    try:
        low = t.lower()
        if "0x" in low:
            return float.fromhex(t)
        if "inf" in low or "nan" in low:
            return None
        return float(t)
    except (ValueError, OverflowError):
        return None


def _new_number(pos: int, typ: int, text: str) -> _NumberNode:
    n = _NumberNode(pos, text)
    if typ == T_CHARCONST:
        try:
            r = _unquote(text)
        except ValueError:
            raise ValueError("malformed character constant: %s" % text) from None
        n.is_int = n.is_uint = n.is_float = True
        n.int_val = ord(r)
        n.float_val = float(ord(r))
        return n
    if text.endswith("i"):
        raise ValueError("complex numbers are not supported: %s" % _go_quote(text))
    iv = _parse_go_int(text)
    if iv is not None:
        if 0 <= iv < 1 << 64:
            n.is_uint = True
        if -(1 << 63) <= iv < 1 << 63:
            n.is_int = True
            n.int_val = iv
        if n.is_int or n.is_uint:
            n.is_float = True
            n.float_val = float(iv)
            return n
    fv = _parse_go_float(text)
    if fv is not None and not math.isinf(fv):
        if not any(ch in text for ch in ".eEpP"):
            raise ValueError("integer overflow: %s" % _go_quote(text))
        n.is_float = True
        n.float_val = fv
        if fv == int(fv) and -(1 << 63) <= int(fv) < 1 << 63:
            n.is_int = True
            n.int_val = int(fv)
        if fv == int(fv) and 0 <= int(fv) < 1 << 64:
            n.is_uint = True
    if not (n.is_int or n.is_uint or n.is_float):
        raise ValueError("illegal number syntax: %s" % _go_quote(text))
    return n


# --------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------


class _Tree:
    def __init__(self, name: str, text: str):
        self.name = name
        self.text = text
        self.root: _ListNode | None = None


class _Parser:
    def __init__(self, name: str, text: str, funcs: set[str]):
        self.name = name
        self.text = text
        self.items = _lex(text)
        self.i = 0
        self.furthest = 0
        self.funcs = funcs
        self.vars = ["$"]
        self.range_depth = 0
        self.trees: dict[str, _Tree] = {}

    # -- token stream --
    def next(self) -> _Item:
        it = self.items[min(self.i, len(self.items) - 1)]
        self.i += 1
        self.furthest = max(self.furthest, self.i - 1)
        return it

    def backup(self, k=1):
        self.i -= k

    def peek(self) -> _Item:
        it = self.next()
        self.backup()
        return it

    def next_non_space(self) -> _Item:
        while True:
            it = self.next()
            if it.typ != T_SPACE:
                return it

    def peek_non_space(self) -> _Item:
        it = self.next_non_space()
        self.backup()
        return it

    # -- errors --
    def errorf(self, msg):
        item = self.items[min(self.furthest, len(self.items) - 1)]
        raise TemplateError("template: %s:%d: %s" % (self.name, item.line, msg))

    def unexpected(self, item, context):
        if item.typ == T_ERROR:
            self.errorf(item.val)
        self.errorf("unexpected %s in %s" % (item, context))

    def expect(self, typ, context):
        tok = self.next_non_space()
        if tok.typ != typ:
            self.unexpected(tok, context)
        return tok

    # -- top level --
    def parse(self) -> dict[str, _Tree]:
        main = _Tree(self.name, self.text)
        main.root = _ListNode(self.peek().pos)
        while self.peek().typ != T_EOF:
            if self.peek().typ == T_LDELIM:
                save = self.i
                self.next()
                if self.next_non_space().typ == T_DEFINE:
                    self.parse_definition()
                    continue
                self.i = save
            n = self.text_or_action()
            if isinstance(n, (_EndNode, _ElseNode)):
                self.errorf("unexpected %s" % n)
            main.root.nodes.append(n)
        self._add_tree(self.name, main)
        return self.trees

    def _add_tree(self, name, tree):
        old = self.trees.get(name)
        if old is None or _is_empty(old.root):
            self.trees[name] = tree
            return
        if not _is_empty(tree.root):
            self.errorf("template: multiple definition of template %s" % _go_quote(name))

    def parse_definition(self):
        context = "define clause"
        tok = self.next_non_space()
        if tok.typ not in (T_STRING, T_RAWSTRING):
            self.unexpected(tok, context)
        try:
            name = _unquote(tok.val)
        except ValueError:
            self.errorf("unexpected %s in %s" % (tok, context))
        self.expect(T_RDELIM, context)
        saved_vars = self.vars
        self.vars = ["$"]
        tree = _Tree(name, self.text)
        tree.root, end = self.item_list()
        if not isinstance(end, _EndNode):
            self.errorf("unexpected %s in %s" % (end, context))
        self.vars = saved_vars
        self._add_tree(name, tree)

    def item_list(self):
        lst = _ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ != T_EOF:
            n = self.text_or_action()
            if isinstance(n, (_EndNode, _ElseNode)):
                return lst, n
            lst.nodes.append(n)
        self.errorf("unexpected EOF")

    def text_or_action(self):
        tok = self.next_non_space()
        if tok.typ == T_TEXT:
            return _TextNode(tok.pos, tok.val)
        if tok.typ == T_LDELIM:
            return self.action()
        self.unexpected(tok, "input")

    def action(self):
        tok = self.next_non_space()
        t = tok.typ
        if t == T_BLOCK:
            return self.block_control()
        if t == T_BREAK:
            return self.break_control(tok.pos, "break")
        if t == T_CONTINUE:
            return self.break_control(tok.pos, "continue")
        if t == T_ELSE:
            return self.else_control()
        if t == T_END:
            return _EndNode(self.expect(T_RDELIM, "end").pos)
        if t == T_IF:
            return self.parse_control(_IfNode, "if")
        if t == T_RANGE:
            return self.parse_control(_RangeNode, "range")
        if t == T_TEMPLATE:
            return self.template_control()
        if t == T_WITH:
            return self.parse_control(_WithNode, "with")
        self.backup()
        tok = self.peek()
        return _ActionNode(tok.pos, self.pipeline("command", T_RDELIM))

    def break_control(self, pos, word):
        tok = self.next_non_space()
        if tok.typ != T_RDELIM:
            self.unexpected(tok, "{{%s}}" % word)
        if self.range_depth == 0:
            self.errorf("{{%s}} outside {{range}}" % word)
        return _BreakNode(pos) if word == "break" else _ContinueNode(pos)

    def else_control(self):
        peek = self.peek_non_space()
        if peek.typ in (T_IF, T_WITH):
            # "{{else if ...": the "if"/"with" is left pending.
            return _ElseNode(peek.pos)
        return _ElseNode(self.expect(T_RDELIM, "else").pos)

    def parse_control(self, cls, context):
        nvars = len(self.vars)
        try:
            pipe = self.pipeline(context, T_RDELIM)
            if context == "range":
                self.range_depth += 1
            lst, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list = None
            if isinstance(nxt, _ElseNode):
                if context == "if" and self.peek().typ == T_IF:
                    self.next()
                    else_list = _ListNode(nxt.pos)
                    else_list.nodes.append(self.parse_control(_IfNode, "if"))
                elif context == "with" and self.peek().typ == T_WITH:
                    self.next()
                    else_list = _ListNode(nxt.pos)
                    else_list.nodes.append(self.parse_control(_WithNode, "with"))
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, _EndNode):
                        self.errorf("expected end; found %s" % nxt)
            return cls(pipe.pos, pipe, lst, else_list)
        finally:
            del self.vars[nvars:]

    def parse_template_name(self, tok, context):
        if tok.typ in (T_STRING, T_RAWSTRING):
            try:
                return _unquote(tok.val)
            except ValueError as e:
                self.errorf(str(e))
        self.unexpected(tok, context)

    def template_control(self):
        context = "template clause"
        tok = self.next_non_space()
        name = self.parse_template_name(tok, context)
        pipe = None
        if self.next_non_space().typ != T_RDELIM:
            self.backup()
            pipe = self.pipeline(context, T_RDELIM)
        return _TemplateNode(tok.pos, name, pipe)

    def block_control(self):
        context = "block clause"
        tok = self.next_non_space()
        name = self.parse_template_name(tok, context)
        pipe = self.pipeline(context, T_RDELIM)
        saved_vars, saved_depth = self.vars, self.range_depth
        self.vars, self.range_depth = ["$"], 0
        tree = _Tree(name, self.text)
        tree.root, end = self.item_list()
        if not isinstance(end, _EndNode):
            self.errorf("unexpected %s in %s" % (end, context))
        self.vars, self.range_depth = saved_vars, saved_depth
        self._add_tree(name, tree)
        return _TemplateNode(tok.pos, name, pipe)

    def pipeline(self, context, end):
        tok = self.peek_non_space()
        pipe = _PipeNode(tok.pos)
        # optional declarations
        while True:
            v = self.peek_non_space()
            if v.typ != T_VARIABLE:
                break
            self.next_non_space()
            nxt = self.peek_non_space()
            if nxt.typ in (T_ASSIGN, T_DECLARE):
                pipe.is_assign = nxt.typ == T_ASSIGN
                self.next_non_space()
                pipe.decl.append(_VariableNode(v.pos, v.val))
                self.vars.append(v.val)
                break
            if nxt.typ == T_CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(_VariableNode(v.pos, v.val))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (T_VARIABLE, T_RDELIM, T_RPAREN):
                        continue  # second initialised variable in a range
                    self.errorf("range can only initialize variables")
                self.errorf("too many declarations in %s" % context)
            # not a declaration: push the variable back
            self.i = self._index_of(v)
            break
        while True:
            tok = self.next_non_space()
            if tok.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if tok.typ in (
                T_BOOL,
                T_CHARCONST,
                T_DOT,
                T_FIELD,
                T_IDENT,
                T_NUMBER,
                T_NIL,
                T_RAWSTRING,
                T_STRING,
                T_VARIABLE,
                T_LPAREN,
            ):
                self.backup()
                pipe.cmds.append(self.command())
            else:
                self.unexpected(tok, context)

    def _index_of(self, item):
        for k in range(self.i - 1, -1, -1):
            if self.items[k] is item:
                return k
        return self.i  # pragma: no cover

    def check_pipeline(self, pipe, context):
        if not pipe.cmds:
            self.errorf("missing value for %s" % context)
        for i, c in enumerate(pipe.cmds[1:]):
            first = c.args[0]
            if isinstance(first, (_BoolNode, _DotNode, _NilNode, _NumberNode, _StringNode)):
                self.errorf("non executable command in pipeline stage %d" % (i + 2))

    def command(self):
        cmd = _CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.typ == T_SPACE:
                continue
            if tok.typ in (T_RDELIM, T_RPAREN):
                self.backup()
            elif tok.typ == T_PIPE:
                pass
            else:
                self.unexpected(tok, "operand")
            break
        if not cmd.args:
            self.errorf("empty command")
        return cmd

    def operand(self):
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == T_FIELD:
            chain = _ChainNode(self.peek().pos, node)
            while self.peek().typ == T_FIELD:
                chain.field.append(self.next().val[1:])
            if isinstance(node, _FieldNode):
                node = _FieldNode(chain.pos, str(chain))
            elif isinstance(node, _VariableNode):
                node = _VariableNode(chain.pos, str(chain))
            elif isinstance(node, (_BoolNode, _StringNode, _NumberNode, _NilNode, _DotNode)):
                self.errorf("unexpected . after term %s" % _go_quote(str(node)))
            else:
                node = chain
        return node

    def term(self):
        tok = self.next_non_space()
        t = tok.typ
        if t == T_IDENT:
            if tok.val not in self.funcs:
                self.errorf("function %s not defined" % _go_quote(tok.val))
            return _IdentifierNode(tok.pos, tok.val)
        if t == T_DOT:
            return _DotNode(tok.pos)
        if t == T_NIL:
            return _NilNode(tok.pos)
        if t == T_VARIABLE:
            if tok.val not in self.vars:
                self.errorf("undefined variable %s" % _go_quote(tok.val))
            return _VariableNode(tok.pos, tok.val)
        if t == T_FIELD:
            return _FieldNode(tok.pos, tok.val)
        if t == T_BOOL:
            return _BoolNode(tok.pos, tok.val == "true")
        if t in (T_CHARCONST, T_NUMBER):
            try:
                return _new_number(tok.pos, t, tok.val)
            except ValueError as e:
                self.errorf(str(e))
        if t == T_LPAREN:
            return self.pipeline("parenthesized pipeline", T_RPAREN)
        if t in (T_STRING, T_RAWSTRING):
            try:
                s = _unquote(tok.val)
            except ValueError as e:
                self.errorf(str(e))
            return _StringNode(tok.pos, tok.val, s)
        self.backup()
        return None


def _is_empty(node) -> bool:
    if node is None:
        return True
    if isinstance(node, _ListNode):
        return all(_is_empty(n) for n in node.nodes)
    if isinstance(node, _TextNode):
        return node.text.strip(" \t\r\n") == ""
    return False


# --------------------------------------------------------------------------
# Go value helpers
# --------------------------------------------------------------------------


def _type_name(v) -> str:
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


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_true(v) -> bool:
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


def _shortest(f: float):
    """Shortest round-trip decimal digits of abs(f) and the decimal point
    position (digits d1d2... represent 0.d1d2... x 10^dp)."""
    d = Decimal(repr(abs(f)))
    _, digits, exp = d.as_tuple()
    ds = "".join(str(x) for x in digits)
    dp = len(ds) + exp
    stripped = ds.lstrip("0")
    dp -= len(ds) - len(stripped)
    ds = stripped.rstrip("0")
    if not ds:
        return "", 0
    return ds, dp


def _fmt_e(digits: str, dp: int, prec: int, e="e") -> str:
    first = digits[0] if digits else "0"
    s = first
    if prec > 0:
        frac = digits[1 : 1 + prec]
        s += "." + frac + "0" * (prec - len(frac))
    exp = dp - 1 if digits else 0
    sign = "-" if exp < 0 else "+"
    exp = abs(exp)
    return s + e + sign + ("%02d" % exp)


def _fmt_f(digits: str, dp: int, prec: int) -> str:
    if dp > 0:
        ip = digits[:dp] + "0" * max(0, dp - len(digits))
    else:
        ip = "0"
    if prec > 0:
        frac = ""
        for i in range(prec):
            k = dp + i
            frac += digits[k] if 0 <= k < len(digits) else "0"
        return ip + "." + frac
    return ip


def _go_float(f: float, verb: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat(f, verb, prec, 64)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    neg = math.copysign(1.0, f) < 0
    if prec >= 0 and verb in "eEfF":
        s = ("%." + str(prec) + verb.lower()) % abs(f)
        if verb == "E":
            s = s.upper()
        return ("-" if neg else "") + s
    if prec >= 0 and verb in "gG":
        p = prec if prec > 0 else 1
        s = ("%." + str(p - 1) + "e") % abs(f)
        mant, ex = s.split("e")
        digits = mant.replace(".", "").rstrip("0")
        dp = int(ex) + 1 if digits else 0
        eprec = p
        if eprec > len(digits) and len(digits) >= dp:
            eprec = len(digits)
        x = dp - 1
        if x < -4 or x >= eprec:
            pp = min(p, len(digits))
            out = _fmt_e(digits, dp, pp - 1, "e" if verb == "g" else "E")
        else:
            pp = len(digits) if p > dp else p
            out = _fmt_f(digits, dp, max(pp - dp, 0))
        return ("-" if neg else "") + out
    digits, dp = _shortest(f)
    if verb in "eE":
        out = _fmt_e(digits, dp, max(len(digits) - 1, 0), verb)
    elif verb in "fF":
        out = _fmt_f(digits, dp, max(len(digits) - dp, 0))
    else:  # 'g' with the shortest precision: %e when exp < -4 || exp >= 6
        eprec = 6
        x = dp - 1 if digits else -1
        if digits and (x < -4 or x >= eprec):
            out = _fmt_e(digits, dp, len(digits) - 1, "e" if verb != "G" else "E")
        elif not digits:
            out = "0"
        else:
            out = _fmt_f(digits, dp, max(len(digits) - dp, 0))
    return ("-" if neg else "") + out


def go_format(v) -> str:
    """fmt.Sprint of a single value (Go's %v)."""
    return _fmt_value(v, "v", _Flags())


def _go_quote(s: str, ascii_only=False) -> str:
    """strconv.Quote."""
    out = ['"']
    for c in s:
        o = ord(c)
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif (c.isprintable() or c == " ") and (not ascii_only or o < 0x80) and not (0xD800 <= o <= 0xDFFF):
            out.append(c)
        elif c == "\a":
            out.append("\\a")
        elif c == "\b":
            out.append("\\b")
        elif c == "\f":
            out.append("\\f")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif c == "\v":
            out.append("\\v")
        elif o < 0x20 or o == 0x7F:
            out.append("\\x%02x" % o)
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd")
        elif o < 0x10000:
            out.append("\\u%04x" % o)
        else:
            out.append("\\U%08x" % o)
    out.append('"')
    return "".join(out)


# --------------------------------------------------------------------------
# fmt.Sprintf
# --------------------------------------------------------------------------


class _Flags:
    __slots__ = ("plus", "minus", "sharp", "space", "zero", "width", "prec")

    def __init__(self):
        self.plus = self.minus = self.sharp = self.space = self.zero = False
        self.width = None
        self.prec = None


def _pad(s: str, fl: _Flags, zero_ok=False) -> str:
    if fl.width is None:
        return s
    n = len(s)
    if n >= fl.width:
        return s
    fill = fl.width - n
    if fl.minus:
        return s + " " * fill
    if fl.zero and zero_ok:
        if s and s[0] in "+- ":
            return s[0] + "0" * fill + s[1:]
        if s[:2] in ("0x", "0X", "0b", "0o"):
            return s[:2] + "0" * fill + s[2:]
        return "0" * fill + s
    return " " * fill + s


def _bad_verb(verb: str, v) -> str:
    if v is None or v is NO_VALUE:
        return "%!" + verb + "(<nil>)"
    return "%!" + verb + "(" + _type_name(v) + "=" + _fmt_value(v, "v", _Flags()) + ")"


def _fmt_int(v: int, verb: str, fl: _Flags) -> str:
    if verb == "c":
        return _pad(chr(v) if 0 <= v <= 0x10FFFF else "\ufffd", fl)
    if verb == "q":
        c = chr(v) if 0 <= v <= 0x10FFFF else "\ufffd"
        q = _go_quote(c, ascii_only=fl.plus)[1:-1]
        if q == "\\\"":
            q = '"'
        if c == "'":
            q = "\\'"
        return _pad("'" + q + "'", fl)
    if verb == "U":
        s = "U+%04X" % v
        if fl.sharp and 0 <= v <= 0x10FFFF and chr(v).isprintable():
            s += " '" + chr(v) + "'"
        return _pad(s, fl)
    neg = v < 0
    a = abs(v)
    if verb in ("d", "v"):
        body = str(a)
    elif verb == "x":
        body = "%x" % a
    elif verb == "X":
        body = "%X" % a
    elif verb == "o":
        body = "%o" % a
    elif verb == "O":
        body = "%o" % a
    elif verb == "b":
        body = "{:b}".format(a)
    else:
        return _bad_verb(verb, v)
    if fl.prec is not None:
        if fl.prec == 0 and a == 0:
            body = ""
        body = body.rjust(fl.prec, "0")
    if fl.sharp:
        if verb == "x":
            body = "0x" + body
        elif verb == "X":
            body = "0X" + body
        elif verb == "o" and not body.startswith("0"):
            body = "0" + body
        elif verb == "b":
            body = "0b" + body
    if verb == "O":
        body = "0o" + body
    sign = "-" if neg else ("+" if fl.plus else (" " if fl.space else ""))
    return _pad(sign + body, fl, zero_ok=fl.prec is None)


def _fmt_float(v: float, verb: str, fl: _Flags) -> str:
    if verb == "v":
        verb = "g"
    if verb not in "eEfFgGxXb":
        return _bad_verb(verb, v)
    if verb in "xXb":
        return _pad(_hex_float(v, verb == "X"), fl)
    prec = -1 if fl.prec is None else fl.prec
    if prec == -1 and verb in "eEfF":
        prec = 6
    if fl.sharp and verb in "gG" and not (math.isnan(v) or math.isinf(v)):
        p = 6 if prec == -1 else max(prec, 1)
        s = ("%#." + str(p) + verb) % v
    else:
        s = _go_float(v, verb, prec)
    if fl.sharp and verb in "eEfF" and "." not in s and not (math.isnan(v) or math.isinf(v)):
        k = s.lower().find("e")
        s = s + "." if k < 0 else s[:k] + "." + s[k:]
    if fl.plus and not s.startswith("-") and s != "NaN":
        s = "+" + s if not s.startswith("+") else s
    elif fl.space and not s.startswith(("-", "+")):
        s = " " + s
    if s in ("+Inf", "-Inf", "NaN") or s[1:] in ("Inf",):
        if not fl.plus and s == "+Inf":
            s = "+Inf"
        return _pad(s, fl)
    return _pad(s, fl, zero_ok=True)


def _hex_float(v: float, upper: bool) -> str:
    """Go's %x for a float64 (shortest hex mantissa, 2-digit exponent)."""
    if math.isnan(v) or math.isinf(v):
        return _go_float(v)
    h = float(v).hex()  # e.g. -0x1.c000000000000p+1
    neg = h.startswith("-")
    h = h.lstrip("-")
    mant, exp = h[2:].split("p")
    if "." in mant:
        ip, frac = mant.split(".")
        frac = frac.rstrip("0")
        mant = ip + ("." + frac if frac else "")
    e = int(exp)
    s = ("-" if neg else "") + "0x" + mant + "p" + ("-" if e < 0 else "+") + "%02d" % abs(e)
    return s.upper().replace("0X", "0X") if upper else s


def _fmt_str(s: str, verb: str, fl: _Flags) -> str:
    if fl.prec is not None and verb in "sqvxX":
        s = s[: fl.prec] if verb != "x" and verb != "X" else s
    if verb in ("s", "v"):
        return _pad(s, fl)
    if verb == "q":
        if fl.sharp and "`" not in s and all(c.isprintable() or c == "\t" for c in s):
            return _pad("`" + s + "`", fl)
        return _pad(_go_quote(s, ascii_only=fl.plus), fl)
    if verb in ("x", "X"):
        b = s.encode("utf-8", errors="surrogatepass")
        if fl.prec is not None:
            b = b[: fl.prec]
        parts = [("%02x" if verb == "x" else "%02X") % x for x in b]
        if fl.space:
            pre = ("0x" if verb == "x" else "0X") if fl.sharp else ""
            out = " ".join(pre + p for p in parts)
        else:
            out = ("0x" if verb == "x" else "0X") if fl.sharp and parts else ""
            out += "".join(parts)
        return _pad(out, fl)
    return _bad_verb(verb, s)


def _fmt_value(v, verb: str, fl: _Flags, depth: int = 0) -> str:
    if v is None or v is NO_VALUE:
        if depth > 0:
            return "<nil>"  # fmt writes a nil element unpadded
        if verb in ("v", "T"):
            return _pad("<nil>", fl)
        return _bad_verb(verb, v)
    if verb == "T":
        return _pad(_type_name(v), fl)
    if verb == "v" and fl.sharp:
        return _pad(_go_syntax(v, top=True), fl)
    if isinstance(v, bool):
        if verb in ("t", "v"):
            return _pad("true" if v else "false", fl)
        return _bad_verb(verb, v)
    if isinstance(v, int):
        return _fmt_int(v, verb, fl)
    if isinstance(v, float):
        return _fmt_float(v, verb, fl)
    if isinstance(v, str):
        return _fmt_str(v, verb, fl)
    if isinstance(v, dict):
        parts = []
        for k in sorted(v, key=_sort_key):
            parts.append(_fmt_value(k, verb, fl, depth + 1) + ":" + _fmt_value(v[k], verb, fl, depth + 1))
        return "map[" + " ".join(parts) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(_fmt_value(x, verb, fl, depth + 1) for x in v) + "]"
    return _pad(str(v), fl)


def _sort_key(k):
    if isinstance(k, str):
        return (1, k.encode("utf-8", errors="surrogatepass"))
    if isinstance(k, (int, float)):
        return (0, k)
    return (2, str(k))


def _go_syntax(v, top=False) -> str:
    """An approximation of Go's %#v for JSON-like values."""
    if v is None or v is NO_VALUE:
        return "<nil>" if top else "interface {}(nil)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        digits, dp = _shortest(v)
        x = dp - 1
        if digits and (x < -4 or x >= 21):
            return _go_float(v, "e", -1)
        return _go_float(v, "f", -1)
    if isinstance(v, str):
        return _go_quote(v)
    if isinstance(v, dict):
        items = ", ".join(_go_quote(str(k)) + ":" + _go_syntax(v[k]) for k in sorted(v, key=_sort_key))
        return "map[string]interface {}{" + items + "}"
    if isinstance(v, (list, tuple)):
        return "[]interface {}{" + ", ".join(_go_syntax(x) for x in v) + "}"
    return repr(v)


def go_sprintf(fmt: str, args: list) -> str:
    """fmt.Sprintf for the common verbs (v s d q x X o b c U e E f F g G t T %)."""
    out: list[str] = []
    i = 0
    n = len(fmt)
    argi = 0
    reordered = False
    good_index = True

    def arg_number():
        # parses an explicit "[n]" argument index at fmt[i]
        nonlocal i, argi, reordered, good_index
        if i >= n or fmt[i] != "[":
            return
        reordered = True
        j = fmt.find("]", i)
        if j < 0 or not fmt[i + 1 : j].isdigit() or not 1 <= int(fmt[i + 1 : j]) <= len(args):
            good_index = False
            i = j + 1 if j >= 0 else n
            return
        argi = int(fmt[i + 1 : j]) - 1
        i = j + 1

    while i < n:
        c = fmt[i]
        if c != "%":
            j = fmt.find("%", i)
            if j < 0:
                j = n
            out.append(fmt[i:j])
            i = j
            continue
        i += 1
        fl = _Flags()
        good_index = True
        while i < n and fmt[i] in "+-# 0":
            ch = fmt[i]
            if ch == "+":
                fl.plus = True
            elif ch == "-":
                fl.minus = True
                fl.zero = False
            elif ch == "#":
                fl.sharp = True
            elif ch == " ":
                fl.space = True
            elif ch == "0":
                fl.zero = not fl.minus
            i += 1
        # width
        arg_number()
        if i < n and fmt[i] == "*":
            i += 1
            if argi < len(args) and _is_int(args[argi]):
                fl.width = args[argi]
                if fl.width < 0:
                    fl.minus, fl.width = True, -fl.width
            else:
                out.append("%!(BADWIDTH)")
            argi += 1
        else:
            j = i
            while i < n and fmt[i].isdigit():
                i += 1
            if i > j:
                fl.width = int(fmt[j:i])
        # precision
        if i < n and fmt[i] == ".":
            i += 1
            arg_number()
            if i < n and fmt[i] == "*":
                i += 1
                if argi < len(args) and _is_int(args[argi]):
                    fl.prec = args[argi]
                    if fl.prec < 0:
                        fl.prec = None
                else:
                    out.append("%!(BADPREC)")
                argi += 1
            else:
                j = i
                while i < n and fmt[i].isdigit():
                    i += 1
                fl.prec = int(fmt[j:i]) if i > j else 0
        arg_number()
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if not good_index:
            out.append("%!" + verb + "(BADINDEX)")
            continue
        if argi >= len(args):
            out.append("%!" + verb + "(MISSING)")
            continue
        arg = args[argi]
        argi += 1
        if verb == "v":
            fl.plus = False  # %+v only matters for structs
        out.append(_fmt_value(arg, verb, fl))
    if not reordered and argi < len(args):
        extra = []
        for a in args[argi:]:
            if a is None or a is NO_VALUE:
                extra.append("<nil>")
            else:
                extra.append(_type_name(a) + "=" + _fmt_value(a, "v", _Flags()))
        out.append("%!(EXTRA " + ", ".join(extra) + ")")
    return "".join(out)


def _go_sprint(args: list) -> str:
    out = []
    prev_string = False
    for k, a in enumerate(args):
        is_string = isinstance(a, str)
        if k > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(_fmt_value(a, "v", _Flags()))
        prev_string = is_string
    return "".join(out)


def _go_sprintln(args: list) -> str:
    return " ".join(_fmt_value(a, "v", _Flags()) for a in args) + "\n"


# --------------------------------------------------------------------------
# JSON (encoding/json Encoder with SetEscapeHTML(false))
# --------------------------------------------------------------------------


class _JSONError(Exception):
    pass


def _json_str(s: str, escape_html: bool = False) -> str:
    out = ['"']
    for c in s:
        o = ord(c)
        if escape_html and c in "<>&":
            out.append("\\u%04x" % o)
        elif c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif o < 0x20:
            out.append(
                {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}.get(c, "\\u%04x" % o)
            )
        elif o in (0x2028, 0x2029):
            out.append("\\u%04x" % o)
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _json_float(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        raise _JSONError("json: unsupported value: %s" % _go_float(f))
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        s = _go_float(f, "e", -1)
        # clean up e-09 to e-9
        if len(s) >= 4 and s[-4] == "e" and s[-3] == "-" and s[-2] == "0":
            s = s[:-2] + s[-1]
        return s
    return _go_float(f, "f", -1)


def _json_encode(v, escape_html: bool = False) -> str:
    if isinstance(v, Row) and not escape_html:
        return _json_encode({k: v[k] for k in sorted(v, key=_sort_key)}, True)
    if v is None or v is NO_VALUE:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _json_float(v)
    if isinstance(v, str):
        return _json_str(v, escape_html)
    if isinstance(v, dict):
        return (
            "{"
            + ",".join(_json_str(str(k), escape_html) + ":" + _json_encode(x, escape_html) for k, x in v.items())
            + "}"
        )
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_json_encode(x, escape_html) for x in v) + "]"
    raise _JSONError("json: unsupported type: %s" % type(v).__name__)


def go_json(v) -> str:
    """docker's ``json`` template function: compact JSON, no HTML escaping,
    dict keys in insertion order.  An unencodable value (NaN, Inf) gives ""
    (docker ignores the encoder's error)."""
    try:
        return _json_encode(v)
    except _JSONError:
        return ""


# --------------------------------------------------------------------------
# Functions
# --------------------------------------------------------------------------


class _FuncError(Exception):
    pass


# parameter kinds: "value" (reflect.Value), "any" (interface{}), "string",
# "int", "strings" ([]string)
class _Func:
    def __init__(self, fn, params: list[str], variadic: str | None = None):
        self.fn, self.params, self.variadic = fn, params, variadic


def _indirect_iface(v):
    return NO_VALUE if v is None else v


def _f_not(v):
    return not _is_true(_indirect_iface(v))


def _f_len(v):
    if v is None:
        raise _FuncError("len of nil pointer")
    if v is NO_VALUE:
        raise _FuncError("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(v, str):
        return len(v.encode("utf-8", errors="surrogatepass"))
    if isinstance(v, (list, tuple, dict)):
        return len(v)
    raise _FuncError("len of type %s" % _type_name(v))


def _index_arg(idx, length):
    idx = _indirect_iface(idx)
    if idx is NO_VALUE:
        raise _FuncError("cannot index slice/array with nil")
    if not _is_int(idx):
        raise _FuncError("cannot index slice/array with type %s" % _type_name(idx))
    if idx < 0 or idx > length:
        raise _FuncError("index out of range: %d" % idx)
    return idx


def _f_index(item, *indexes):
    item = _indirect_iface(item)
    if item is NO_VALUE:
        raise _FuncError("index of untyped nil")
    for idx in indexes:
        if item is None:
            raise _FuncError("index of nil pointer")
        if isinstance(item, (str, list, tuple)):
            b = item.encode("utf-8", errors="surrogatepass") if isinstance(item, str) else item
            x = _index_arg(idx, len(b))
            if x >= len(b):
                raise _FuncError("index out of range: %d" % x)
            item = b[x]
        elif isinstance(item, dict):
            key = _indirect_iface(idx)
            if key is NO_VALUE:
                raise _FuncError("value is nil; should be of type string")
            if not isinstance(key, str):
                raise _FuncError("value has type %s; should be string" % _type_name(key))
            item = item.get(key)
        else:
            raise _FuncError("can't index item of type %s" % _type_name(item))
    return item


def _f_slice(item, *indexes):
    item = _indirect_iface(item)
    if item is NO_VALUE:
        raise _FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise _FuncError("too many slice indexes: %d" % len(indexes))
    if isinstance(item, str):
        if len(indexes) == 3:
            raise _FuncError("cannot 3-index slice a string")
        seq = item.encode("utf-8", errors="surrogatepass")
    elif isinstance(item, (list, tuple)):
        seq = item
    else:
        raise _FuncError("can't slice item of type %s" % _type_name(item))
    cap = len(seq)
    idx = [0, len(seq)]
    for k, x in enumerate(indexes):
        v = _index_arg(x, cap)
        if k < 2:
            idx[k] = v
        else:
            idx.append(v)
    if idx[0] > idx[1]:
        raise _FuncError("invalid slice index: %d > %d" % (idx[0], idx[1]))
    if len(idx) == 3 and idx[1] > idx[2]:
        raise _FuncError("invalid slice index: %d > %d" % (idx[1], idx[2]))
    res = seq[idx[0] : idx[1]]
    if isinstance(item, str):
        return res.decode("utf-8", errors="replace")
    return list(res)


_INT, _FLOAT, _STR, _BOOL, _INVALID = range(5)


def _basic_kind(v):
    if isinstance(v, bool):
        return _BOOL
    if isinstance(v, int):
        return _INT
    if isinstance(v, float):
        return _FLOAT
    if isinstance(v, str):
        return _STR
    return _INVALID


def _f_eq(arg1, *arg2):
    arg1 = _indirect_iface(arg1)
    if not arg2:
        raise _FuncError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for a in arg2:
        a = _indirect_iface(a)
        k2 = _basic_kind(a)
        if k1 != k2:
            if arg1 is not NO_VALUE and a is not NO_VALUE:
                raise _FuncError("incompatible types for comparison")
            truth = False
        elif k1 == _INVALID:
            if arg1 is NO_VALUE or a is NO_VALUE:
                truth = arg1 is a
            else:
                raise _FuncError(
                    "non-comparable type %s: %s" % (_fmt_value(a, "s", _Flags()), _type_name(a))
                )
        else:
            truth = arg1 == a
        if truth:
            return True
    return False


def _f_ne(a, b):
    return not _f_eq(a, b)


def _f_lt(a, b):
    a = _indirect_iface(a)
    b = _indirect_iface(b)
    k1, k2 = _basic_kind(a), _basic_kind(b)
    if k1 == _INVALID or k2 == _INVALID:
        raise _FuncError("invalid type for comparison")
    if k1 != k2:
        raise _FuncError("incompatible types for comparison")
    if k1 == _BOOL:
        raise _FuncError("invalid type for comparison")
    if k1 == _STR:
        return a.encode("utf-8", errors="surrogatepass") < b.encode("utf-8", errors="surrogatepass")
    return a < b


def _f_le(a, b):
    lt = _f_lt(a, b)
    return lt or _f_eq(a, b)


def _f_gt(a, b):
    return not _f_le(a, b)


def _f_ge(a, b):
    return not _f_lt(a, b)


def _eval_args_string(args):
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return _go_sprint(["<no value>" if a is None or a is NO_VALUE else a for a in args])


def _f_html(*args):
    s = _eval_args_string(args)
    out = []
    for c in s:
        out.append(
            {"<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&#39;", '"': "&#34;", "\0": "\ufffd"}.get(c, c)
        )
    return "".join(out)


def _f_js(*args):
    s = _eval_args_string(args)
    out = []
    for c in s:
        o = ord(c)
        if c == "\\":
            out.append("\\\\")
        elif c == "'":
            out.append("\\'")
        elif c == '"':
            out.append('\\"')
        elif c in "<>&=":
            out.append("\\u%04X" % o)
        elif o < 0x20:
            out.append("\\u%04X" % o)
        elif o < 0x80 or c.isprintable():
            out.append(c)
        else:
            out.append("\\u%04X" % o)
    return "".join(out)


def _f_urlquery(*args):
    s = _eval_args_string(args)
    return urllib.parse.quote_plus(s, safe="-_.~")


def _f_title(s: str) -> str:
    out = []
    prev = " "
    for c in s:
        if _is_separator(prev):
            t = c.upper() if len(c.upper()) == 1 else c
            if c == "ǆ" or c == "ǅ" or c == "Ǆ":
                t = "ǅ"
            out.append(t)
        else:
            out.append(c)
        prev = c
    return "".join(out)


def _is_separator(c: str) -> bool:
    o = ord(c)
    if o <= 0x7F:
        if "0" <= c <= "9" or "a" <= c <= "z" or "A" <= c <= "Z" or c == "_":
            return False
        return True
    if c.isalpha() or c.isdigit():
        return False
    return c.isspace()


def _go_upper(s: str) -> str:
    return "".join(u if len(u := c.upper()) == 1 else c for c in s)


def _go_lower(s: str) -> str:
    out = []
    for c in s:
        if c == "\u0130":
            out.append("i")
            continue
        low = c.lower()
        out.append(low if len(low) == 1 else c)
    return "".join(out)


def _f_split(s: str, sep: str):
    if sep == "":
        return list(s)
    return s.split(sep)


def _f_join(elems, sep: str):
    return sep.join(elems)


def _f_pad(source: str, prefix: int, suffix: int) -> str:
    if source == "":
        return source
    if prefix < 0 or suffix < 0:
        raise _FuncError("strings: negative Repeat count")
    return " " * prefix + source + " " * suffix


def _f_truncate(source: str, length: int) -> str:
    b = source.encode("utf-8", errors="surrogatepass")
    if len(b) < length:
        return source
    if length < 0:
        raise _FuncError("runtime error: slice bounds out of range [:%d]" % length)
    return b[:length].decode("utf-8", errors="replace")


_BUILTINS: dict[str, _Func] = {
    "and": _Func(None, ["value"], "value"),
    "or": _Func(None, ["value"], "value"),
    "not": _Func(_f_not, ["value"]),
    "len": _Func(_f_len, ["value"]),
    "index": _Func(_f_index, ["value"], "value"),
    "slice": _Func(_f_slice, ["value"], "value"),
    "print": _Func(lambda *a: _go_sprint(list(a)), [], "any"),
    "printf": _Func(lambda f, *a: go_sprintf(f, list(a)), ["string"], "any"),
    "println": _Func(lambda *a: _go_sprintln(list(a)), [], "any"),
    "html": _Func(_f_html, [], "any"),
    "js": _Func(_f_js, [], "any"),
    "urlquery": _Func(_f_urlquery, [], "any"),
    "eq": _Func(_f_eq, ["value"], "value"),
    "ne": _Func(_f_ne, ["value", "value"]),
    "lt": _Func(_f_lt, ["value", "value"]),
    "le": _Func(_f_le, ["value", "value"]),
    "gt": _Func(_f_gt, ["value", "value"]),
    "ge": _Func(_f_ge, ["value", "value"]),
}

# docker/cli templates.basicFunctions
_DOCKER_FUNCS: dict[str, _Func] = {
    "json": _Func(go_json, ["any"]),
    "split": _Func(_f_split, ["string", "string"]),
    "join": _Func(_f_join, ["strings", "string"]),
    "title": _Func(_f_title, ["string"]),
    "lower": _Func(_go_lower, ["string"]),
    "upper": _Func(_go_upper, ["string"]),
    "pad": _Func(_f_pad, ["string", "int", "int"]),
    "truncate": _Func(_f_truncate, ["string", "int"]),
}

# docker/cli templates.HeaderFunctions (pad is not overridden)
_HEADER_FUNCS: dict[str, _Func] = {
    "json": _Func(lambda v: v, ["string"]),
    "split": _Func(lambda v, _s: v, ["string", "string"]),
    "join": _Func(lambda v, _s: v, ["string", "string"]),
    "title": _Func(lambda v: v, ["string"]),
    "lower": _Func(lambda v: v, ["string"]),
    "upper": _Func(lambda v: v, ["string"]),
    "truncate": _Func(lambda v, _n: v, ["string", "int"]),
}

_ALL_FUNC_NAMES = set(_BUILTINS) | set(_DOCKER_FUNCS)

# --------------------------------------------------------------------------
# Execution
# --------------------------------------------------------------------------


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _ExecError(Exception):
    pass


_MAX_DEPTH = 10000


class _State:
    def __init__(self, tmpl: "Template", tree: _Tree, funcs, missingkey):
        self.tmpl = tmpl
        self.tree = tree
        self.funcs = funcs
        self.missingkey = missingkey
        self.vars: list[list] = []
        self.node: _Node | None = None
        self.out: list[str] = []
        self.depth = 0
        self.dot_boxed = False

    # -- errors --
    def at(self, node):
        self.node = node

    def errorf(self, msg):
        name = self.tree.name
        if self.node is None:
            raise _ExecError("template: %s: %s" % (name, msg))
        pos = self.node.pos
        text = self.tree.text[:pos]
        nl = text.rfind("\n")
        col = pos if nl < 0 else pos - (nl + 1)
        line = 1 + text.count("\n")
        ctx = str(self.node)
        raise _ExecError(
            "template: %s:%d:%d: executing %s at <%s>: %s"
            % (self.tmpl.name, line, col, _go_quote(name), ctx, msg)
        )

    # -- variables --
    def push(self, name, value):
        self.vars.append([name, value])

    def mark(self):
        return len(self.vars)

    def pop(self, mark):
        del self.vars[mark:]

    def set_var(self, name, value):
        for v in reversed(self.vars):
            if v[0] == name:
                v[1] = value
                return
        self.errorf("undefined variable: %s" % name)

    def set_top_var(self, n, value):
        self.vars[len(self.vars) - n][1] = value

    def var_value(self, name):
        for v in reversed(self.vars):
            if v[0] == name:
                return v[1]
        self.errorf("undefined variable: %s" % name)

    # -- walking --
    def walk(self, dot, node):
        self.at(node)
        if isinstance(node, _ActionNode):
            val = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.at(node)
                self.out.append("<no value>" if val is NO_VALUE else go_format(val))
        elif isinstance(node, _ListNode):
            for n in node.nodes:
                self.walk(dot, n)
        elif isinstance(node, _TextNode):
            self.out.append(node.text)
        elif isinstance(node, _IfNode):
            self.walk_if_or_with(False, dot, node)
        elif isinstance(node, _WithNode):
            self.walk_if_or_with(True, dot, node)
        elif isinstance(node, _RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, _TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, _BreakNode):
            raise _Break()
        elif isinstance(node, _ContinueNode):
            raise _Continue()
        else:  # pragma: no cover
            self.errorf("unknown node: %s" % node)

    def walk_if_or_with(self, is_with, dot, node):
        mark = self.mark()
        saved_boxed = self.dot_boxed
        try:
            val = self.eval_pipeline(dot, node.pipe)
            if _is_true(val):
                if is_with:
                    self.dot_boxed = False
                    self.walk(val, node.list)
                else:
                    self.walk(dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            self.dot_boxed = saved_boxed
            self.pop(mark)

    def walk_range(self, dot, r):
        self.at(r)
        mark = self.mark()
        saved_boxed = self.dot_boxed
        try:
            val = self.eval_pipeline(dot, r.pipe)
            decl = r.pipe.decl

            def one(index, elem, boxed):
                if decl:
                    if r.pipe.is_assign:
                        if len(decl) > 1:
                            self.set_var(decl[0].ident[0], index)
                        else:
                            self.set_var(decl[0].ident[0], elem)
                    else:
                        self.set_top_var(1, elem)
                if len(decl) > 1:
                    if r.pipe.is_assign:
                        self.set_var(decl[1].ident[0], elem)
                    else:
                        self.set_top_var(2, index)
                m = self.mark()
                self.dot_boxed = boxed
                try:
                    self.walk(elem, r.list)
                except _Continue:
                    pass
                finally:
                    self.pop(m)
                    self.dot_boxed = saved_boxed

            try:
                if isinstance(val, (list, tuple)):
                    if val:
                        for i, e in enumerate(val):
                            one(i, e, True)
                        return
                elif isinstance(val, dict):
                    if val:
                        for k in sorted(val, key=_sort_key):
                            one(k, val[k], True)
                        return
                elif _is_int(val):
                    if len(decl) > 1:
                        self.errorf("can't use %s to iterate over more than one variable" % val)
                    if val > 0:
                        for i in range(val):
                            one(i, i, False)
                        return
                elif val is NO_VALUE or val is None:
                    pass
                else:
                    self.errorf("range can't iterate over %s" % go_format(val))
            except _Break:
                return
            if r.else_list is not None:
                self.walk(dot, r.else_list)
        finally:
            self.dot_boxed = saved_boxed
            self.pop(mark)

    def walk_template(self, dot, t):
        self.at(t)
        tree = self.tmpl._trees.get(t.name)
        if tree is None or tree.root is None:
            self.errorf("template %s not defined" % _go_quote(t.name))
        if self.depth >= _MAX_DEPTH:
            self.errorf("exceeded maximum template depth (%d)" % _MAX_DEPTH)
        new_dot = self.eval_pipeline(dot, t.pipe)
        st = _State(self.tmpl, tree, self.funcs, self.missingkey)
        st.depth = self.depth + 1
        st.out = self.out
        st.vars = [["$", new_dot]]
        st.walk(new_dot, tree.root)

    # -- evaluation --
    def eval_pipeline(self, dot, pipe):
        if pipe is None:
            return NO_VALUE
        self.at(pipe)
        value = _MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
            if value is None:  # a nil interface{} becomes "no value"
                value = NO_VALUE
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.ident[0], value)
            else:
                self.push(var.ident[0], value)
        return value

    def not_a_function(self, args, final):
        if (args is not None and len(args) > 1) or final is not _MISSING:
            self.errorf("can't give argument to non-function %s" % args[0])

    def eval_command(self, dot, cmd, final):
        first = cmd.args[0]
        if isinstance(first, _FieldNode):
            self.at(first)
            return self.eval_field_chain(dot, dot, self.dot_boxed, first, first.ident, cmd.args, final)
        if isinstance(first, _ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, _IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, _PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, _VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, _BoolNode):
            return first.val
        if isinstance(first, _DotNode):
            return dot
        if isinstance(first, _NilNode):
            self.errorf("nil is not a command")
        if isinstance(first, _NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, _StringNode):
            return first.text
        self.errorf("can't evaluate command %s" % first)  # pragma: no cover

    def ideal_constant(self, n: _NumberNode):
        self.at(n)
        if n.is_float and not _is_hex_int(n.text) and not _is_rune_int(n.text) and any(c in n.text for c in ".eEpP"):
            return n.float_val
        if n.is_int:
            return n.int_val
        if n.is_uint:
            self.errorf("%s overflows int" % n.text)
        return n.float_val

    def eval_chain_node(self, dot, chain, args, final):
        self.at(chain)
        if isinstance(chain.node, _NilNode):
            self.errorf("indirection through explicit nil in %s" % chain)
        pipe = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, pipe, False, chain, chain.field, args, final)

    def eval_variable_node(self, dot, var, args, final):
        self.at(var)
        value = self.var_value(var.ident[0])
        if len(var.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, False, var, var.ident[1:], args, final)

    def eval_field_chain(self, dot, receiver, boxed, node, ident, args, final):
        for name in ident[:-1]:
            receiver = self.eval_field(name, node, None, _MISSING, receiver, boxed)
            boxed = True
        return self.eval_field(ident[-1], node, args, final, receiver, boxed)

    def eval_field(self, name, node, args, final, receiver, boxed):
        if receiver is NO_VALUE:
            if self.missingkey == "error":
                self.errorf("nil data; no entry for key %s" % _go_quote(name))
            return NO_VALUE
        if receiver is None:
            self.errorf("nil pointer evaluating interface {}.%s" % name)
        has_args = (args is not None and len(args) > 1) or final is not _MISSING
        if isinstance(receiver, dict):
            if has_args:
                self.errorf("%s is not a method but has arguments" % name)
            if name in receiver:
                return receiver[name]
            if isinstance(receiver, Struct):  # a Go struct has no field it does not declare
                self.errorf("can't evaluate field %s in type %s" % (name, receiver.go_type))
            if self.missingkey == "error":
                self.errorf("map has no entry for key %s" % _go_quote(name))
            if self.missingkey == "zero":
                return None  # the zero value of interface{}
            return NO_VALUE
        typ = "interface {}" if boxed else _type_name(receiver)
        self.errorf("can't evaluate field %s in type %s" % (name, typ))

    def eval_function(self, dot, node, cmd, args, final):
        self.at(node)
        name = node.ident
        fn = self.funcs.get(name) or _BUILTINS.get(name)
        if fn is None:
            self.errorf("%s is not a defined function" % _go_quote(name))
        return self.eval_call(dot, fn, name in _BUILTINS and name not in self.funcs, cmd, name, args, final)

    def eval_call(self, dot, fn: _Func, is_builtin, node, name, args, final):
        args = args[1:] if args is not None else []
        num_in = len(args) + (0 if final is _MISSING else 1)
        nparams = len(fn.params) + (1 if fn.variadic else 0)
        if fn.variadic:
            num_fixed = len(fn.params)
            if num_in < num_fixed:
                self.errorf(
                    "wrong number of args for %s: want at least %d got %d" % (name, num_fixed, len(args))
                )
        else:
            num_fixed = len(args)
            if num_in != nparams:
                self.errorf("wrong number of args for %s: want %d got %d" % (name, nparams, num_in))
        if is_builtin and name in ("and", "or"):
            v = NO_VALUE
            for a in args:
                v = self.eval_arg(dot, "value", a)
                if _is_true(_indirect_iface(v)) == (name == "or"):
                    return v
            if final is not _MISSING:
                v = self.validate_type(final, "value")
            return v
        argv = []
        i = 0
        while i < num_fixed and i < len(args):
            argv.append(self.eval_arg(dot, fn.params[i], args[i]))
            i += 1
        if fn.variadic:
            while i < len(args):
                argv.append(self.eval_arg(dot, fn.variadic, args[i]))
                i += 1
        if final is not _MISSING:
            if fn.variadic and num_in - 1 >= num_fixed:
                t = fn.variadic
            else:
                t = fn.params[num_in - 1]
            argv.append(self.validate_type(final, t))
        try:
            return fn.fn(*argv)
        except _FuncError as e:
            self.at(node)
            self.errorf("error calling %s: %s" % (name, e))

    def validate_type(self, value, kind):
        if value is NO_VALUE:
            if kind is None or kind == "value":
                return NO_VALUE
            if kind == "any":
                return None
            if kind == "strings":
                return []
            self.errorf("invalid value; expected %s" % _KIND_NAMES[kind])
        if kind is None or kind == "value":
            return value
        if kind == "any":
            return value
        if kind == "string":
            if isinstance(value, str):
                return value
        elif kind == "int":
            if _is_int(value):
                return value
        elif kind == "strings":
            if isinstance(value, (list, tuple)) and all(isinstance(x, str) for x in value):
                return list(value)
        got = "interface {}" if value is None else _type_name(value)
        self.errorf("wrong type for value; expected %s; got %s" % (_KIND_NAMES[kind], got))

    def eval_arg(self, dot, kind, n):
        self.at(n)
        if isinstance(n, _DotNode):
            return self.validate_type(dot, kind)
        if isinstance(n, _NilNode):
            if kind in ("any", None):
                return None
            if kind == "value":
                return NO_VALUE
            if kind == "strings":
                return []
            self.errorf("cannot assign nil to %s" % _KIND_NAMES[kind])
        if isinstance(n, _FieldNode):
            return self.validate_type(
                self.eval_field_chain(dot, dot, self.dot_boxed, n, n.ident, [n], _MISSING), kind
            )
        if isinstance(n, _VariableNode):
            return self.validate_type(self.eval_variable_node(dot, n, None, _MISSING), kind)
        if isinstance(n, _PipeNode):
            return self.validate_type(self.eval_pipeline(dot, n), kind)
        if isinstance(n, _IdentifierNode):
            return self.validate_type(self.eval_function(dot, n, n, None, _MISSING), kind)
        if isinstance(n, _ChainNode):
            return self.validate_type(self.eval_chain_node(dot, n, None, _MISSING), kind)
        # constants
        if kind == "string":
            if isinstance(n, _StringNode):
                return n.text
            self.errorf("expected string; found %s" % n)
        if kind == "int":
            if isinstance(n, _NumberNode) and n.is_int:
                return n.int_val
            self.errorf("expected integer; found %s" % n)
        if kind in ("any", "value", None):
            if isinstance(n, _BoolNode):
                return n.val
            if isinstance(n, _NumberNode):
                return self.ideal_constant(n)
            if isinstance(n, _StringNode):
                return n.text
        self.errorf("can't handle %s for arg of type %s" % (n, _KIND_NAMES.get(kind, kind)))


_KIND_NAMES = {
    "string": "string",
    "int": "int",
    "strings": "[]string",
    "any": "interface {}",
    "value": "reflect.Value",
    None: "interface {}",
}


def _is_hex_int(s: str) -> bool:
    t = s.lstrip("+-")
    return len(t) > 2 and t[0] == "0" and t[1] in "xX" and not any(c in t for c in "pP")


def _is_rune_int(s: str) -> bool:
    return len(s) > 0 and s[0] == "'"


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


class Template:
    """A parsed template; ``execute(data)`` may be called many times."""

    def __init__(self, text: str, name: str = "", missingkey: str = "default"):
        if missingkey not in ("default", "invalid", "zero", "error"):
            raise ValueError("unrecognized missingkey option: %r" % missingkey)
        self.name = name
        self.text = text
        self.missingkey = "default" if missingkey == "invalid" else missingkey
        self._trees = _Parser(name, text, _ALL_FUNC_NAMES).parse()

    def _run(self, data, funcs) -> str:
        tree = self._trees.get(self.name)
        st = _State(self, tree, funcs, self.missingkey)
        dot = NO_VALUE if data is None else data
        st.vars = [["$", dot]]
        try:
            if tree is None or tree.root is None:
                st.errorf("%s is an incomplete or empty template" % _go_quote(self.name))
            st.walk(dot, tree.root)
        except _ExecError as e:
            raise TemplateError(str(e), "".join(st.out)) from None
        except RecursionError:
            raise TemplateError(
                "template: %s: exceeded maximum template depth" % self.name, "".join(st.out)
            ) from None
        return "".join(st.out)

    def execute(self, data: Any) -> str:
        """Execute with docker's template functions."""
        return self._run(data, _DOCKER_FUNCS)

    def execute_header(self, data: Any) -> str:
        """Execute with docker's HeaderFunctions (used for table headers)."""
        funcs = dict(_DOCKER_FUNCS)
        funcs.update(_HEADER_FUNCS)
        return self._run(data, funcs)


def parse(template: str, missingkey: str = "default") -> Template:
    """Parse ``template`` (raises TemplateError on a syntax error).

    ``missingkey="error"`` mirrors Go's ``Option("missingkey=error")`` (what
    ``docker inspect`` uses when it falls back to raw JSON data)."""
    return Template(template, missingkey=missingkey)


def render(template: str, data: Any, missingkey: str = "default") -> str:
    """Parse and execute ``template`` against ``data``."""
    return parse(template, missingkey=missingkey).execute(data)


# --------------------------------------------------------------------------
# docker formatter helpers
# --------------------------------------------------------------------------

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


def _rune_width(c: str) -> int:
    o = ord(c)
    if o == 0 or o < 0x20 or 0x7F <= o < 0xA0:
        return 0
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    if o in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF):
        return 0
    if unicodedata.east_asian_width(c) in ("W", "F"):
        return 2
    return 1


def _text_width(s: str) -> int:
    if s.isascii() and s.isprintable():  # the common case, one column a character
        return len(s)
    return sum(_rune_width(c) for c in s)


class _TabWriter:
    """Go's text/tabwriter.Writer (left alignment, space/other padchar, no
    flags), as forked by docker (cell widths by terminal display width)."""

    def __init__(self, minwidth: int, tabwidth: int, padding: int, padchar: str):
        self.minwidth, self.tabwidth, self.padding, self.padchar = minwidth, tabwidth, padding, padchar
        self.out: list[str] = []
        self._reset()

    def _reset(self):
        self.cell: list[str] = []  # text of the current cell
        self.lines: list[list[tuple[str, int, bool]]] = [[]]
        self.widths: list[int] = []

    def _terminate_cell(self, htab: bool) -> int:
        text = "".join(self.cell)
        self.lines[-1].append((text, _text_width(text), htab))
        self.cell = []
        return len(self.lines[-1])

    def write(self, text: str):
        for ch in text:
            if ch in "\t\v\n\f":
                ncells = self._terminate_cell(ch == "\t")
                if ch in "\n\f":
                    self.lines.append([])
                    if ch == "\f" or ncells == 1:
                        self.flush()
            else:
                self.cell.append(ch)

    def flush(self):
        if self.cell:
            self._terminate_cell(False)
        self._format(0, len(self.lines))
        self._reset()

    def _padding(self, textw: int, cellw: int):
        if self.padchar == "\t":
            if self.tabwidth == 0:
                return
            cellw = (cellw + self.tabwidth - 1) // self.tabwidth * self.tabwidth
            n = cellw - textw
            self.out.append("\t" * ((n + self.tabwidth - 1) // self.tabwidth))
            return
        self.out.append(self.padchar * (cellw - textw))

    def _write_lines(self, line0: int, line1: int):
        for i in range(line0, line1):
            line = self.lines[i]
            for j, (text, width, _htab) in enumerate(line):
                if text:
                    self.out.append(text)
                if j < len(self.widths):
                    self._padding(width, self.widths[j])
            if i + 1 == len(self.lines):
                self.out.append("".join(self.cell))
            else:
                self.out.append("\n")

    def _format(self, line0: int, line1: int):
        column = len(self.widths)
        this = line0
        while this < line1:
            line = self.lines[this]
            if column >= len(line) - 1:
                this += 1
                continue
            self._write_lines(line0, this)
            line0 = this
            width = self.minwidth
            while this < line1:
                line = self.lines[this]
                if column >= len(line) - 1:
                    break
                w = line[column][1] + self.padding
                if w > width:
                    width = w
                this += 1
            self.widths.append(width)
            self._format(line0, this)
            self.widths.pop()
            line0 = this
        self._write_lines(line0, line1)


def tabwrite(text: str, minwidth: int = 10, tabwidth: int = 1, padding: int = 3, padchar: str = " ") -> str:
    """Run ``text`` through Go's text/tabwriter (defaults: docker's
    ``NewWriter(out, 10, 1, 3, ' ', 0)``) and return the aligned text.

    Tab-terminated cells in consecutive lines form a column whose width is
    max(minwidth, widest cell + padding); the text after a line's last tab is
    not part of a column and is never padded.  A line without a tab ends the
    block of lines aligned together."""
    tw = _TabWriter(minwidth, tabwidth, padding, padchar)
    tw.write(text)
    tw.flush()
    return "".join(tw.out)


def tabulate(rows: list[list[str]], minwidth: int = 10, tabwidth: int = 1, padding: int = 3) -> str:
    """Align ``rows`` (header first, if any) the way docker's table output
    does: cells of a row are joined with tabs, every row ends with a newline,
    and the whole is passed through :func:`tabwrite`."""
    return tabwrite("".join("\t".join(r) + "\n" for r in rows), minwidth, tabwidth, padding)
