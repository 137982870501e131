"""Go's strconv as the template needs it: Quote, Unquote (string and character
literals), ParseInt/ParseFloat (number literals) and FormatFloat."""
from __future__ import annotations

import math
from decimal import Decimal


_SIMPLE_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def unquote(s: str) -> str:
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


def parse_int(text: str):
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


def parse_float(text: str):
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


def shortest(f: float):
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


def format_float(f: float, verb: str = "g", prec: int = -1) -> str:
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
    digits, dp = shortest(f)
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


def quote(s: str, ascii_only=False) -> str:
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
