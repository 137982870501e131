"""Variable substitution as the Dockerfile does it: $VAR, ${VAR}, ${VAR:-default},
${VAR:+alternative}; the escape character protects a `$`; single quotes too."""
from __future__ import annotations

from reference_impl.errors import InvalidInput


def substitute(text: str, env: dict[str, str], escape: str = "\\") -> str:
    out, i, quote = [], 0, None
    while i < len(text):
        ch = text[i]
        if ch == escape and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if ch == "'" and quote != '"':
            quote = None if quote == "'" else "'"
            out.append(ch)
            i += 1
            continue
        if ch == '"' and quote != "'":
            quote = None if quote == '"' else '"'
            out.append(ch)
            i += 1
            continue
        if ch == "$" and quote != "'":
            value, i = _variable(text, i + 1, env)
            out.append(value)
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _variable(text: str, i: int, env: dict[str, str]) -> tuple[str, int]:
    if i < len(text) and text[i] == "{":
        end = text.find("}", i)
        if end < 0:
            raise InvalidInput(f"missing '}}' in '{text}'")
        body = text[i + 1:end]
        for op in (":-", ":+", "-", "+"):
            name, sep, word = body.partition(op)
            if sep and name.isidentifier():
                value = env.get(name)
                if op in (":-", "-"):
                    result = value if value else word
                else:
                    result = word if value else ""
                return result, end + 1
        return env.get(body, ""), end + 1
    j = i
    while j < len(text) and (text[j].isalnum() or text[j] == "_"):
        j += 1
    if j == i:
        return "$", i
    return env.get(text[i:j], ""), j
