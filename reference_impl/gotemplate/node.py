"""The parse tree: Go's text/template/parse/node.go (nodes print themselves back as
template text, which execution errors quote as their context)."""
from __future__ import annotations

import math

from reference_impl.gotemplate.lex import T_CHARCONST
from reference_impl.gotemplate.strconv import parse_float, parse_int, quote, unquote


class Node:
    pos = 0

    def __str__(self):  # pragma: no cover - overridden
        return ""


class ListNode(Node):
    def __init__(self, pos):
        self.pos = pos
        self.nodes: list[Node] = []

    def __str__(self):
        return "".join(str(x) for x in self.nodes)


class TextNode(Node):
    def __init__(self, pos, text):
        self.pos, self.text = pos, text

    def __str__(self):
        return self.text


class PipeNode(Node):
    def __init__(self, pos):
        self.pos = pos
        self.is_assign = False
        self.decl: list[VariableNode] = []
        self.cmds: list[CommandNode] = []

    def __str__(self):
        s = ""
        if self.decl:
            s = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return s + " | ".join(str(c) for c in self.cmds)


class ActionNode(Node):
    def __init__(self, pos, pipe):
        self.pos, self.pipe = pos, pipe

    def __str__(self):
        return "{{%s}}" % self.pipe


class CommandNode(Node):
    def __init__(self, pos):
        self.pos = pos
        self.args: list[Node] = []

    def __str__(self):
        return " ".join("(%s)" % a if isinstance(a, PipeNode) else str(a) for a in self.args)


class IdentifierNode(Node):
    def __init__(self, pos, ident):
        self.pos, self.ident = pos, ident

    def __str__(self):
        return self.ident


class VariableNode(Node):
    def __init__(self, pos, ident: str):
        self.pos = pos
        self.ident = ident.split(".")

    def __str__(self):
        return ".".join(self.ident)


class DotNode(Node):
    def __init__(self, pos):
        self.pos = pos

    def __str__(self):
        return "."


class NilNode(Node):
    def __init__(self, pos):
        self.pos = pos

    def __str__(self):
        return "nil"


class FieldNode(Node):
    def __init__(self, pos, ident: str):
        self.pos = pos
        self.ident = ident[1:].split(".")  # ".A.B" -> ["A", "B"]

    def __str__(self):
        return "".join("." + i for i in self.ident)


class ChainNode(Node):
    def __init__(self, pos, node):
        self.pos, self.node = pos, node
        self.field: list[str] = []

    def __str__(self):
        s = "(%s)" % self.node if isinstance(self.node, PipeNode) else str(self.node)
        return s + "".join("." + f for f in self.field)


class BoolNode(Node):
    def __init__(self, pos, val):
        self.pos, self.val = pos, val

    def __str__(self):
        return "true" if self.val else "false"


class NumberNode(Node):
    def __init__(self, pos, text):
        self.pos, self.text = pos, text
        self.is_int = self.is_uint = self.is_float = False
        self.int_val = 0
        self.float_val = 0.0

    def __str__(self):
        return self.text


class StringNode(Node):
    def __init__(self, pos, quoted, text):
        self.pos, self.quoted, self.text = pos, quoted, text

    def __str__(self):
        return self.quoted


class BranchNode(Node):
    keyword = ""

    def __init__(self, pos, pipe, lst, else_list):
        self.pos, self.pipe, self.list, self.else_list = pos, pipe, lst, else_list

    def __str__(self):
        s = "{{%s %s}}%s" % (self.keyword, self.pipe, self.list)
        if self.else_list is not None:
            s += "{{else}}%s" % self.else_list
        return s + "{{end}}"


class IfNode(BranchNode):
    keyword = "if"


class RangeNode(BranchNode):
    keyword = "range"


class WithNode(BranchNode):
    keyword = "with"


class BreakNode(Node):
    def __init__(self, pos):
        self.pos = pos

    def __str__(self):
        return "{{break}}"


class ContinueNode(Node):
    def __init__(self, pos):
        self.pos = pos

    def __str__(self):
        return "{{continue}}"


class EndNode(Node):
    def __init__(self, pos):
        self.pos = pos

    def __str__(self):
        return "{{end}}"


class ElseNode(Node):
    def __init__(self, pos):
        self.pos = pos

    def __str__(self):
        return "{{else}}"


class TemplateNode(Node):
    def __init__(self, pos, name, pipe):
        self.pos, self.name, self.pipe = pos, name, pipe

    def __str__(self):
        if self.pipe is None:
            return "{{template %s}}" % quote(self.name)
        return "{{template %s %s}}" % (quote(self.name), self.pipe)


def new_number(pos: int, typ: int, text: str) -> NumberNode:
    n = NumberNode(pos, text)
    if typ == T_CHARCONST:
        try:
            r = unquote(text)
        except ValueError:
            raise ValueError("malformed character constant: %s" % text) from None
        n.is_int = n.is_uint = n.is_float = True
        n.int_val = ord(r)
        n.float_val = float(ord(r))
        return n
    if text.endswith("i"):
        raise ValueError("complex numbers are not supported: %s" % quote(text))
    iv = parse_int(text)
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
    fv = parse_float(text)
    if fv is not None and not math.isinf(fv):
        if not any(ch in text for ch in ".eEpP"):
            raise ValueError("integer overflow: %s" % quote(text))
        n.is_float = True
        n.float_val = fv
        if fv == int(fv) and -(1 << 63) <= int(fv) < 1 << 63:
            n.is_int = True
            n.int_val = int(fv)
        if fv == int(fv) and 0 <= int(fv) < 1 << 64:
            n.is_uint = True
    if not (n.is_int or n.is_uint or n.is_float):
        raise ValueError("illegal number syntax: %s" % quote(text))
    return n
