"""encoding/json's Encoder as docker's ``json`` template function uses it
(``SetEscapeHTML(false)``, compact), and the sorted, HTML-escaped form of a list row."""
from __future__ import annotations

import math

from reference_impl.gotemplate.strconv import format_float
from reference_impl.gotemplate.values import NO_VALUE, Row, sort_key


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
        raise _JSONError("json: unsupported value: %s" % format_float(f))
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        s = format_float(f, "e", -1)
        # clean up e-09 to e-9
        if len(s) >= 4 and s[-4] == "e" and s[-3] == "-" and s[-2] == "0":
            s = s[:-2] + s[-1]
        return s
    return format_float(f, "f", -1)


def _json_encode(v, escape_html: bool = False) -> str:
    if isinstance(v, Row) and not escape_html:
        return _json_encode({k: v[k] for k in sorted(v, key=sort_key)}, True)
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
