"""Go's fmt for JSON-like values: ``%v`` (``go_format``), Sprint, Sprintln and Sprintf
with the common verbs (v s d q x X o b c U e E f F g G t T %)."""
from __future__ import annotations

import math

from reference_impl.gotemplate.strconv import format_float, quote, shortest
from reference_impl.gotemplate.values import NO_VALUE, is_int, sort_key, type_name


def go_format(v) -> str:
    """fmt.Sprint of a single value (Go's %v)."""
    return fmt_value(v, "v", Flags())


class Flags:
    __slots__ = ("plus", "minus", "sharp", "space", "zero", "width", "prec")

    def __init__(self):
        self.plus = self.minus = self.sharp = self.space = self.zero = False
        self.width = None
        self.prec = None


def _pad(s: str, fl: Flags, zero_ok=False) -> str:
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
    return "%!" + verb + "(" + type_name(v) + "=" + fmt_value(v, "v", Flags()) + ")"


def _fmt_int(v: int, verb: str, fl: Flags) -> str:
    if verb == "c":
        return _pad(chr(v) if 0 <= v <= 0x10FFFF else "\ufffd", fl)
    if verb == "q":
        c = chr(v) if 0 <= v <= 0x10FFFF else "\ufffd"
        q = quote(c, ascii_only=fl.plus)[1:-1]
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


def _fmt_float(v: float, verb: str, fl: Flags) -> str:
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
        s = format_float(v, verb, prec)
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
        return format_float(v)
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


def _fmt_str(s: str, verb: str, fl: Flags) -> str:
    if fl.prec is not None and verb in "sqvxX":
        s = s[: fl.prec] if verb != "x" and verb != "X" else s
    if verb in ("s", "v"):
        return _pad(s, fl)
    if verb == "q":
        if fl.sharp and "`" not in s and all(c.isprintable() or c == "\t" for c in s):
            return _pad("`" + s + "`", fl)
        return _pad(quote(s, ascii_only=fl.plus), fl)
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


def fmt_value(v, verb: str, fl: Flags, depth: int = 0) -> str:
    if v is None or v is NO_VALUE:
        if depth > 0:
            return "<nil>"  # fmt writes a nil element unpadded
        if verb in ("v", "T"):
            return _pad("<nil>", fl)
        return _bad_verb(verb, v)
    if verb == "T":
        return _pad(type_name(v), fl)
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
        for k in sorted(v, key=sort_key):
            parts.append(fmt_value(k, verb, fl, depth + 1) + ":" + fmt_value(v[k], verb, fl, depth + 1))
        return "map[" + " ".join(parts) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(fmt_value(x, verb, fl, depth + 1) for x in v) + "]"
    return _pad(str(v), fl)


def _go_syntax(v, top=False) -> str:
    """An approximation of Go's %#v for JSON-like values."""
    if v is None or v is NO_VALUE:
        return "<nil>" if top else "interface {}(nil)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        digits, dp = shortest(v)
        x = dp - 1
        if digits and (x < -4 or x >= 21):
            return format_float(v, "e", -1)
        return format_float(v, "f", -1)
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, dict):
        items = ", ".join(quote(str(k)) + ":" + _go_syntax(v[k]) for k in sorted(v, key=sort_key))
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
        fl = Flags()
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
            if argi < len(args) and is_int(args[argi]):
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
                if argi < len(args) and is_int(args[argi]):
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
        out.append(fmt_value(arg, verb, fl))
    if not reordered and argi < len(args):
        extra = []
        for a in args[argi:]:
            if a is None or a is NO_VALUE:
                extra.append("<nil>")
            else:
                extra.append(type_name(a) + "=" + fmt_value(a, "v", Flags()))
        out.append("%!(EXTRA " + ", ".join(extra) + ")")
    return "".join(out)


def sprint(args: list) -> str:
    out = []
    prev_string = False
    for k, a in enumerate(args):
        is_string = isinstance(a, str)
        if k > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(fmt_value(a, "v", Flags()))
        prev_string = is_string
    return "".join(out)


def sprintln(args: list) -> str:
    return " ".join(fmt_value(a, "v", Flags()) for a in args) + "\n"
