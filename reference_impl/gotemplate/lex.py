"""The lexer: Go's text/template/parse/lex.go. Item types, and the state functions
(``lex_text``, ``lex_left_delim``, ``lex_comment``, ``lex_inside_action``…) that each scan one
thing and return the next state, as Go's ``stateFn``s do. An error is a final T_ERROR item."""
from __future__ import annotations

import unicodedata

from reference_impl.gotemplate.strconv import quote

# Go's itemType values; the keywords come after T_KEYWORD
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
LCOMMENT, RCOMMENT = "/*", "*/"


class Item:
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
            return quote(self.val[:10]) + "..."
        return quote(self.val)

    def __repr__(self):
        return "Item(%d, %r, %d)" % (self.typ, self.val, self.pos)


def _is_alnum(c: str) -> bool:
    return c == "_" or c.isalpha() or (c.isdigit() and unicodedata.category(c) == "Nd")


def _is_printable_ascii(c: str) -> bool:
    return " " <= c <= "~"


class Lexer:
    """The lexer's state: Go's ``lexer`` struct. ``run`` drives the state functions below
    (Go's ``stateFn``: each scans one thing and returns the next state, None at the end)."""

    def __init__(self, text: str):
        self.text = text
        self.n = len(text)
        self.pos = 0          # where scanning is
        self.start = 0        # where the item being scanned starts
        self.paren_depth = 0  # nesting of ( ) inside an action
        self.items: list[Item] = []

    def run(self) -> list[Item]:
        state = lex_text
        while state is not None:
            state = state(self)
        return self.items

    def line_at(self, p: int) -> int:
        return 1 + self.text.count("\n", 0, p)

    def emit(self, typ: int, start: int, end: int) -> None:
        self.items.append(Item(typ, self.text[start:end], start, self.line_at(start)))

    def emit_to(self, typ: int, end: int):
        """Emit text[pos:end] as one item and move past it; back to lex_inside_action."""
        self.emit(typ, self.pos, end)
        self.pos = end
        return lex_inside_action

    def errorf(self, msg: str, at: int | None = None):
        """A final T_ERROR item (at the item being scanned); lexing stops."""
        at = self.start if at is None else at
        self.items.append(Item(T_ERROR, msg, at, self.line_at(at)))
        return None

    def has_left_trim(self, p: int) -> bool:
        """"- " right after a left delimiter: trim the space before it."""
        return p + 1 < self.n and self.text[p] == "-" and self.text[p + 1] in _SPACES

    def at_right_delim(self, p: int) -> tuple[bool, bool]:
        """(is there a right delimiter at p, is it trim-marked " -}}")."""
        text = self.text
        if p + 1 < self.n and text[p] in _SPACES and text[p + 1] == "-" and text.startswith(RDELIM, p + 2):
            return True, True
        return text.startswith(RDELIM, p), False

    def at_terminator(self, p: int) -> bool:
        """Whether p ends a word: space, punctuation, the right delimiter or the end."""
        if p >= self.n:
            return True
        return self.text[p] in _SPACES or self.text[p] in ".,|:()" or self.text.startswith(RDELIM, p)

    def skip_spaces(self) -> None:
        while self.pos < self.n and self.text[self.pos] in _SPACES:
            self.pos += 1


def lex(text: str) -> list[Item]:
    """Tokenise ``text``; a lexing error becomes a final T_ERROR item."""
    return Lexer(text).run()


def lex_text(lx: Lexer):
    """Plain text up to the next left delimiter (its trailing spaces dropped before "{{- ")."""
    x = lx.text.find(LDELIM, lx.pos)
    if x < 0:
        if lx.pos < lx.n:
            lx.emit(T_TEXT, lx.pos, lx.n)
        lx.items.append(Item(T_EOF, "", lx.n, lx.line_at(lx.n)))
        return None
    end = x
    if lx.has_left_trim(x + len(LDELIM)):
        while end > lx.pos and lx.text[end - 1] in _SPACES:
            end -= 1
    if end > lx.pos:
        lx.emit(T_TEXT, lx.pos, end)
    lx.start = x
    lx.pos = x + len(LDELIM)
    return lex_left_delim


def lex_left_delim(lx: Lexer):
    """After "{{": a comment, or an action (its "- " trim marker skipped)."""
    after_marker = 2 if lx.has_left_trim(lx.pos) else 0
    if lx.text.startswith(LCOMMENT, lx.pos + after_marker):
        lx.pos += after_marker
        return lex_comment
    lx.emit(T_LDELIM, lx.start, lx.start + len(LDELIM))
    lx.pos += after_marker
    lx.paren_depth = 0
    return lex_inside_action


def lex_comment(lx: Lexer):
    """"/* ... */" then the right delimiter; nothing is emitted. Errors point at the "{{"."""
    lx.pos += len(LCOMMENT)
    x = lx.text.find(RCOMMENT, lx.pos)
    if x < 0:
        return lx.errorf("unclosed comment")
    lx.pos = x + len(RCOMMENT)
    delim, trim = lx.at_right_delim(lx.pos)
    if not delim:
        return lx.errorf("comment ends before closing delimiter")
    lx.pos += (2 if trim else 0) + len(RDELIM)
    if trim:
        lx.skip_spaces()
    return lex_text


def lex_right_delim(lx: Lexer):
    """"}}" or " -}}" (then the spaces after it are dropped)."""
    _, trim = lx.at_right_delim(lx.pos)
    if trim:
        lx.pos += 2
    lx.emit(T_RDELIM, lx.pos, lx.pos + len(RDELIM))
    lx.pos += len(RDELIM)
    if trim:
        lx.skip_spaces()
    return lex_text


def lex_inside_action(lx: Lexer):
    """One item inside "{{ }}": dispatch on its first character."""
    lx.start = lx.pos
    delim, _ = lx.at_right_delim(lx.pos)
    if delim:
        if lx.paren_depth:
            return lx.errorf("unclosed left paren")
        return lex_right_delim
    if lx.pos >= lx.n:
        return lx.errorf("unclosed action")
    c = lx.text[lx.pos]
    if c in _SPACES:
        return lex_space
    if c in _PUNCTUATION:
        return lx.emit_to(_PUNCTUATION[c], lx.pos + 1)
    if c in _STARTERS:
        return _STARTERS[c]
    if c == "." and not (lx.pos + 1 < lx.n and "0" <= lx.text[lx.pos + 1] <= "9"):
        return lex_field
    if c in "+-." or "0" <= c <= "9":
        return lex_number
    if _is_alnum(c):
        return lex_identifier
    if _is_printable_ascii(c):
        return lx.emit_to(T_CHAR, lx.pos + 1)
    return lx.errorf("unrecognized character in action: %s" % _go_rune_repr(c))


def lex_space(lx: Lexer):
    """A run of spaces; a space followed by "-}}" belongs to the closing delimiter."""
    p = lx.pos
    while p < lx.n and lx.text[p] in _SPACES:
        p += 1
    if p < lx.n and lx.text[p] == "-" and lx.text.startswith(RDELIM, p + 1):
        p -= 1
        if p == lx.pos:
            return lex_inside_action  # the single space is part of " -}}"
    return lx.emit_to(T_SPACE, p)


def lex_declare(lx: Lexer):
    if lx.pos + 1 >= lx.n or lx.text[lx.pos + 1] != "=":
        return lx.errorf("expected :=")
    return lx.emit_to(T_DECLARE, lx.pos + 2)


def lex_left_paren(lx: Lexer):
    lx.paren_depth += 1
    return lx.emit_to(T_LPAREN, lx.pos + 1)


def lex_right_paren(lx: Lexer):
    lx.emit_to(T_RPAREN, lx.pos + 1)
    lx.paren_depth -= 1
    if lx.paren_depth < 0:
        return lx.errorf("unexpected right paren")
    return lex_inside_action


def _scan_escaped(lx: Lexer, closing: str, what: str):
    """A '"' string or a ' character constant: backslash escapes, no newline."""
    p = lx.pos + 1
    while True:
        if p >= lx.n or lx.text[p] == "\n":
            return lx.errorf("unterminated %s" % what)
        if lx.text[p] == "\\":
            if p + 1 >= lx.n or lx.text[p + 1] == "\n":
                return lx.errorf("unterminated %s" % what)
            p += 2
            continue
        if lx.text[p] == closing:
            return p + 1
        p += 1


def lex_quote(lx: Lexer):
    end = _scan_escaped(lx, '"', "quoted string")
    return None if end is None else lx.emit_to(T_STRING, end)


def lex_char(lx: Lexer):
    end = _scan_escaped(lx, "'", "character constant")
    return None if end is None else lx.emit_to(T_CHARCONST, end)


def lex_raw_quote(lx: Lexer):
    p = lx.text.find("`", lx.pos + 1)
    if p < 0:
        return lx.errorf("unterminated raw quoted string")
    return lx.emit_to(T_RAWSTRING, p + 1)


def lex_variable(lx: Lexer):
    """"$" or "$name"."""
    return lex_field_or_variable(lx, T_VARIABLE)


def lex_field(lx: Lexer):
    """"." or ".Name"."""
    return lex_field_or_variable(lx, T_FIELD)


def lex_field_or_variable(lx: Lexer, typ: int):
    p = lx.pos + 1
    if lx.at_terminator(p):  # "." or "$" alone
        return lx.emit_to(T_VARIABLE if typ == T_VARIABLE else T_DOT, p)
    while p < lx.n and _is_alnum(lx.text[p]):
        p += 1
    if not lx.at_terminator(p):
        return lx.errorf("bad character %s" % _go_rune_repr(lx.text[p]))
    return lx.emit_to(typ, p)


def lex_identifier(lx: Lexer):
    """A keyword, true/false, or a function name."""
    p = lx.pos
    while p < lx.n and _is_alnum(lx.text[p]):
        p += 1
    if not lx.at_terminator(p):
        return lx.errorf("bad character %s" % _go_rune_repr(lx.text[p]))
    word = lx.text[lx.pos:p]
    if word in _KEYWORDS:
        return lx.emit_to(_KEYWORDS[word], p)
    return lx.emit_to(T_BOOL if word in ("true", "false") else T_IDENT, p)


def lex_number(lx: Lexer):
    p = _scan_number(lx.text, lx.pos)
    if p < 0:
        q = lx.pos
        while q < lx.n and (_is_alnum(lx.text[q]) or lx.text[q] in "+-._"):
            q += 1
        return lx.errorf("bad number syntax: %s" % quote(lx.text[lx.pos:q]))
    return lx.emit_to(T_NUMBER, p)


# the first character of an item -> its type (one character) or its state function
_PUNCTUATION = {"=": T_ASSIGN, "|": T_PIPE}
_STARTERS = {":": lex_declare, '"': lex_quote, "`": lex_raw_quote, "'": lex_char, "$": lex_variable,
             "(": lex_left_paren, ")": lex_right_paren}


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
