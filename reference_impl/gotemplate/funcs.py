"""The functions a template can call: Go's text/template/funcs.go builtins (and, or,
not, len, index, slice, print*, html, js, urlquery, eq…ge) and docker's
``templates.basicFunctions`` / ``HeaderFunctions``."""
from __future__ import annotations

import urllib.parse

from reference_impl.gotemplate.fmt import Flags, fmt_value, go_sprintf, sprint, sprintln
from reference_impl.gotemplate.json import go_json
from reference_impl.gotemplate.values import NO_VALUE, is_int, is_true, type_name


class FuncError(Exception):
    pass


# parameter kinds: "value" (reflect.Value), "any" (interface{}), "string",
# "int", "strings" ([]string)
class Func:
    def __init__(self, fn, params: list[str], variadic: str | None = None):
        self.fn, self.params, self.variadic = fn, params, variadic


def indirect_iface(v):
    return NO_VALUE if v is None else v


def _f_not(v):
    return not is_true(indirect_iface(v))


def _f_len(v):
    if v is None:
        raise FuncError("len of nil pointer")
    if v is NO_VALUE:
        raise FuncError("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(v, str):
        return len(v.encode("utf-8", errors="surrogatepass"))
    if isinstance(v, (list, tuple, dict)):
        return len(v)
    raise FuncError("len of type %s" % type_name(v))


def _index_arg(idx, length):
    idx = indirect_iface(idx)
    if idx is NO_VALUE:
        raise FuncError("cannot index slice/array with nil")
    if not is_int(idx):
        raise FuncError("cannot index slice/array with type %s" % type_name(idx))
    if idx < 0 or idx > length:
        raise FuncError("index out of range: %d" % idx)
    return idx


def _f_index(item, *indexes):
    item = indirect_iface(item)
    if item is NO_VALUE:
        raise FuncError("index of untyped nil")
    for idx in indexes:
        if item is None:
            raise FuncError("index of nil pointer")
        if isinstance(item, (str, list, tuple)):
            b = item.encode("utf-8", errors="surrogatepass") if isinstance(item, str) else item
            x = _index_arg(idx, len(b))
            if x >= len(b):
                raise FuncError("index out of range: %d" % x)
            item = b[x]
        elif isinstance(item, dict):
            key = indirect_iface(idx)
            if key is NO_VALUE:
                raise FuncError("value is nil; should be of type string")
            if not isinstance(key, str):
                raise FuncError("value has type %s; should be string" % type_name(key))
            item = item.get(key)
        else:
            raise FuncError("can't index item of type %s" % type_name(item))
    return item


def _f_slice(item, *indexes):
    item = indirect_iface(item)
    if item is NO_VALUE:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError("too many slice indexes: %d" % len(indexes))
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
        seq = item.encode("utf-8", errors="surrogatepass")
    elif isinstance(item, (list, tuple)):
        seq = item
    else:
        raise FuncError("can't slice item of type %s" % type_name(item))
    cap = len(seq)
    idx = [0, len(seq)]
    for k, x in enumerate(indexes):
        v = _index_arg(x, cap)
        if k < 2:
            idx[k] = v
        else:
            idx.append(v)
    if idx[0] > idx[1]:
        raise FuncError("invalid slice index: %d > %d" % (idx[0], idx[1]))
    if len(idx) == 3 and idx[1] > idx[2]:
        raise FuncError("invalid slice index: %d > %d" % (idx[1], idx[2]))
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
    arg1 = indirect_iface(arg1)
    if not arg2:
        raise FuncError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for a in arg2:
        a = indirect_iface(a)
        k2 = _basic_kind(a)
        if k1 != k2:
            if arg1 is not NO_VALUE and a is not NO_VALUE:
                raise FuncError("incompatible types for comparison")
            truth = False
        elif k1 == _INVALID:
            if arg1 is NO_VALUE or a is NO_VALUE:
                truth = arg1 is a
            else:
                raise FuncError(
                    "non-comparable type %s: %s" % (fmt_value(a, "s", Flags()), type_name(a))
                )
        else:
            truth = arg1 == a
        if truth:
            return True
    return False


def _f_ne(a, b):
    return not _f_eq(a, b)


def _f_lt(a, b):
    a = indirect_iface(a)
    b = indirect_iface(b)
    k1, k2 = _basic_kind(a), _basic_kind(b)
    if k1 == _INVALID or k2 == _INVALID:
        raise FuncError("invalid type for comparison")
    if k1 != k2:
        raise FuncError("incompatible types for comparison")
    if k1 == _BOOL:
        raise FuncError("invalid type for comparison")
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
    return sprint(["<no value>" if a is None or a is NO_VALUE else a for a in args])


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
        raise FuncError("strings: negative Repeat count")
    return " " * prefix + source + " " * suffix


def _f_truncate(source: str, length: int) -> str:
    b = source.encode("utf-8", errors="surrogatepass")
    if len(b) < length:
        return source
    if length < 0:
        raise FuncError("runtime error: slice bounds out of range [:%d]" % length)
    return b[:length].decode("utf-8", errors="replace")


BUILTINS: dict[str, Func] = {
    "and": Func(None, ["value"], "value"),
    "or": Func(None, ["value"], "value"),
    "not": Func(_f_not, ["value"]),
    "len": Func(_f_len, ["value"]),
    "index": Func(_f_index, ["value"], "value"),
    "slice": Func(_f_slice, ["value"], "value"),
    "print": Func(lambda *a: sprint(list(a)), [], "any"),
    "printf": Func(lambda f, *a: go_sprintf(f, list(a)), ["string"], "any"),
    "println": Func(lambda *a: sprintln(list(a)), [], "any"),
    "html": Func(_f_html, [], "any"),
    "js": Func(_f_js, [], "any"),
    "urlquery": Func(_f_urlquery, [], "any"),
    "eq": Func(_f_eq, ["value"], "value"),
    "ne": Func(_f_ne, ["value", "value"]),
    "lt": Func(_f_lt, ["value", "value"]),
    "le": Func(_f_le, ["value", "value"]),
    "gt": Func(_f_gt, ["value", "value"]),
    "ge": Func(_f_ge, ["value", "value"]),
}

# docker/cli templates.basicFunctions
DOCKER_FUNCS: dict[str, Func] = {
    "json": Func(go_json, ["any"]),
    "split": Func(_f_split, ["string", "string"]),
    "join": Func(_f_join, ["strings", "string"]),
    "title": Func(_f_title, ["string"]),
    "lower": Func(_go_lower, ["string"]),
    "upper": Func(_go_upper, ["string"]),
    "pad": Func(_f_pad, ["string", "int", "int"]),
    "truncate": Func(_f_truncate, ["string", "int"]),
}

# docker/cli templates.HeaderFunctions (pad is not overridden)
HEADER_FUNCS: dict[str, Func] = {
    "json": Func(lambda v: v, ["string"]),
    "split": Func(lambda v, _s: v, ["string", "string"]),
    "join": Func(lambda v, _s: v, ["string", "string"]),
    "title": Func(lambda v: v, ["string"]),
    "lower": Func(lambda v: v, ["string"]),
    "upper": Func(lambda v: v, ["string"]),
    "truncate": Func(lambda v, _n: v, ["string", "int"]),
}

ALL_FUNC_NAMES = set(BUILTINS) | set(DOCKER_FUNCS)
