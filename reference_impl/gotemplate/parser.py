"""The parser: Go's text/template/parse/parse.go (named parser.py: ``parse`` is the
package's public function). Recursive descent over the lexer's items into ``Tree``s, one per
template name (``define``/``block`` add more), with Go's error words."""
from __future__ import annotations

from reference_impl.gotemplate.lex import (
    T_ASSIGN, T_BLOCK, T_BOOL, T_BREAK, T_CHAR, T_CHARCONST, T_CONTINUE, T_DECLARE, T_DEFINE, T_DOT,
    T_ELSE, T_END, T_EOF, T_ERROR, T_FIELD, T_IDENT, T_IF, T_LDELIM, T_LPAREN, T_NIL, T_NUMBER,
    T_PIPE, T_RANGE, T_RAWSTRING, T_RDELIM, T_RPAREN, T_SPACE, T_STRING, T_TEMPLATE, T_TEXT,
    T_VARIABLE, T_WITH, Item, lex,
)
from reference_impl.gotemplate.node import (
    ActionNode, BoolNode, BreakNode, ChainNode, CommandNode, ContinueNode, DotNode, ElseNode,
    EndNode, FieldNode, IdentifierNode, IfNode, ListNode, NilNode, NumberNode, PipeNode, RangeNode,
    StringNode, TemplateNode, TextNode, VariableNode, WithNode, new_number,
)
from reference_impl.gotemplate.strconv import quote, unquote
from reference_impl.gotemplate.values import TemplateError


class Tree:
    def __init__(self, name: str, text: str):
        self.name = name
        self.text = text
        self.root: ListNode | None = None


class Parser:
    def __init__(self, name: str, text: str, funcs: set[str]):
        self.name = name
        self.text = text
        self.items = lex(text)
        self.i = 0
        self.furthest = 0
        self.funcs = funcs
        self.vars = ["$"]
        self.range_depth = 0
        self.trees: dict[str, Tree] = {}

    # -- token stream --
    def next(self) -> Item:
        it = self.items[min(self.i, len(self.items) - 1)]
        self.i += 1
        self.furthest = max(self.furthest, self.i - 1)
        return it

    def backup(self, k=1):
        self.i -= k

    def peek(self) -> Item:
        it = self.next()
        self.backup()
        return it

    def next_non_space(self) -> Item:
        while True:
            it = self.next()
            if it.typ != T_SPACE:
                return it

    def peek_non_space(self) -> Item:
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
    def parse(self) -> dict[str, Tree]:
        main = Tree(self.name, self.text)
        main.root = ListNode(self.peek().pos)
        while self.peek().typ != T_EOF:
            if self.peek().typ == T_LDELIM:
                save = self.i
                self.next()
                if self.next_non_space().typ == T_DEFINE:
                    self.parse_definition()
                    continue
                self.i = save
            n = self.text_or_action()
            if isinstance(n, (EndNode, ElseNode)):
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
            self.errorf("template: multiple definition of template %s" % quote(name))

    def parse_definition(self):
        context = "define clause"
        tok = self.next_non_space()
        if tok.typ not in (T_STRING, T_RAWSTRING):
            self.unexpected(tok, context)
        try:
            name = unquote(tok.val)
        except ValueError:
            self.errorf("unexpected %s in %s" % (tok, context))
        self.expect(T_RDELIM, context)
        saved_vars = self.vars
        self.vars = ["$"]
        tree = Tree(name, self.text)
        tree.root, end = self.item_list()
        if not isinstance(end, EndNode):
            self.errorf("unexpected %s in %s" % (end, context))
        self.vars = saved_vars
        self._add_tree(name, tree)

    def item_list(self):
        lst = ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ != T_EOF:
            n = self.text_or_action()
            if isinstance(n, (EndNode, ElseNode)):
                return lst, n
            lst.nodes.append(n)
        self.errorf("unexpected EOF")

    def text_or_action(self):
        tok = self.next_non_space()
        if tok.typ == T_TEXT:
            return TextNode(tok.pos, tok.val)
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
            return EndNode(self.expect(T_RDELIM, "end").pos)
        if t == T_IF:
            return self.parse_control(IfNode, "if")
        if t == T_RANGE:
            return self.parse_control(RangeNode, "range")
        if t == T_TEMPLATE:
            return self.template_control()
        if t == T_WITH:
            return self.parse_control(WithNode, "with")
        self.backup()
        tok = self.peek()
        return ActionNode(tok.pos, self.pipeline("command", T_RDELIM))

    def break_control(self, pos, word):
        tok = self.next_non_space()
        if tok.typ != T_RDELIM:
            self.unexpected(tok, "{{%s}}" % word)
        if self.range_depth == 0:
            self.errorf("{{%s}} outside {{range}}" % word)
        return BreakNode(pos) if word == "break" else ContinueNode(pos)

    def else_control(self):
        peek = self.peek_non_space()
        if peek.typ in (T_IF, T_WITH):
            # "{{else if ...": the "if"/"with" is left pending.
            return ElseNode(peek.pos)
        return ElseNode(self.expect(T_RDELIM, "else").pos)

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
            if isinstance(nxt, ElseNode):
                if context == "if" and self.peek().typ == T_IF:
                    self.next()
                    else_list = ListNode(nxt.pos)
                    else_list.nodes.append(self.parse_control(IfNode, "if"))
                elif context == "with" and self.peek().typ == T_WITH:
                    self.next()
                    else_list = ListNode(nxt.pos)
                    else_list.nodes.append(self.parse_control(WithNode, "with"))
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, EndNode):
                        self.errorf("expected end; found %s" % nxt)
            return cls(pipe.pos, pipe, lst, else_list)
        finally:
            del self.vars[nvars:]

    def parse_template_name(self, tok, context):
        if tok.typ in (T_STRING, T_RAWSTRING):
            try:
                return unquote(tok.val)
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
        return TemplateNode(tok.pos, name, pipe)

    def block_control(self):
        context = "block clause"
        tok = self.next_non_space()
        name = self.parse_template_name(tok, context)
        pipe = self.pipeline(context, T_RDELIM)
        saved_vars, saved_depth = self.vars, self.range_depth
        self.vars, self.range_depth = ["$"], 0
        tree = Tree(name, self.text)
        tree.root, end = self.item_list()
        if not isinstance(end, EndNode):
            self.errorf("unexpected %s in %s" % (end, context))
        self.vars, self.range_depth = saved_vars, saved_depth
        self._add_tree(name, tree)
        return TemplateNode(tok.pos, name, pipe)

    def pipeline(self, context, end):
        tok = self.peek_non_space()
        pipe = PipeNode(tok.pos)
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
                pipe.decl.append(VariableNode(v.pos, v.val))
                self.vars.append(v.val)
                break
            if nxt.typ == T_CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, v.val))
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
            if isinstance(first, (BoolNode, DotNode, NilNode, NumberNode, StringNode)):
                self.errorf("non executable command in pipeline stage %d" % (i + 2))

    def command(self):
        cmd = CommandNode(self.peek_non_space().pos)
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
            chain = ChainNode(self.peek().pos, node)
            while self.peek().typ == T_FIELD:
                chain.field.append(self.next().val[1:])
            if isinstance(node, FieldNode):
                node = FieldNode(chain.pos, str(chain))
            elif isinstance(node, VariableNode):
                node = VariableNode(chain.pos, str(chain))
            elif isinstance(node, (BoolNode, StringNode, NumberNode, NilNode, DotNode)):
                self.errorf("unexpected . after term %s" % quote(str(node)))
            else:
                node = chain
        return node

    def term(self):
        tok = self.next_non_space()
        t = tok.typ
        if t == T_IDENT:
            if tok.val not in self.funcs:
                self.errorf("function %s not defined" % quote(tok.val))
            return IdentifierNode(tok.pos, tok.val)
        if t == T_DOT:
            return DotNode(tok.pos)
        if t == T_NIL:
            return NilNode(tok.pos)
        if t == T_VARIABLE:
            if tok.val not in self.vars:
                self.errorf("undefined variable %s" % quote(tok.val))
            return VariableNode(tok.pos, tok.val)
        if t == T_FIELD:
            return FieldNode(tok.pos, tok.val)
        if t == T_BOOL:
            return BoolNode(tok.pos, tok.val == "true")
        if t in (T_CHARCONST, T_NUMBER):
            try:
                return new_number(tok.pos, t, tok.val)
            except ValueError as e:
                self.errorf(str(e))
        if t == T_LPAREN:
            return self.pipeline("parenthesized pipeline", T_RPAREN)
        if t in (T_STRING, T_RAWSTRING):
            try:
                s = unquote(tok.val)
            except ValueError as e:
                self.errorf(str(e))
            return StringNode(tok.pos, tok.val, s)
        self.backup()
        return None


def _is_empty(node) -> bool:
    if node is None:
        return True
    if isinstance(node, ListNode):
        return all(_is_empty(n) for n in node.nodes)
    if isinstance(node, TextNode):
        return node.text.strip(" \t\r\n") == ""
    return False
