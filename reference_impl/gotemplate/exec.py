"""Execution: Go's text/template/exec.go. ``State`` walks a parsed tree against the
data, evaluating pipelines, fields, variables and function calls with Go's errors
(``template: NAME:LINE:COL: executing "NAME" at <NODE>: …``)."""
from __future__ import annotations

from reference_impl.gotemplate.fmt import go_format
from reference_impl.gotemplate.funcs import BUILTINS, Func, FuncError, indirect_iface
from reference_impl.gotemplate.node import (
    ActionNode, BoolNode, BreakNode, ChainNode, ContinueNode, DotNode, FieldNode, IdentifierNode,
    IfNode, ListNode, NilNode, Node, NumberNode, PipeNode, RangeNode, StringNode, TemplateNode,
    TextNode, VariableNode, WithNode,
)
from reference_impl.gotemplate.parser import Tree
from reference_impl.gotemplate.strconv import quote
from reference_impl.gotemplate.values import NO_VALUE, is_int, is_true, sort_key, type_name


class _Missing:
    """Go's ``missingVal``: marks "no final (piped) argument"."""

    def __repr__(self):
        return "MISSING"


_MISSING = _Missing()


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class ExecError(Exception):
    pass


_MAX_DEPTH = 10000


class State:
    def __init__(self, name: str, trees: dict[str, Tree], tree: Tree, funcs, missingkey):
        self.name = name    # the template executed (errors name it first)
        self.trees = trees  # every template it can call
        self.tree = tree
        self.funcs = funcs
        self.missingkey = missingkey
        self.vars: list[list] = []
        self.node: Node | None = None
        self.out: list[str] = []
        self.depth = 0
        self.dot_boxed = False

    # -- errors --
    def at(self, node):
        self.node = node

    def errorf(self, msg):
        name = self.tree.name
        if self.node is None:
            raise ExecError("template: %s: %s" % (name, msg))
        pos = self.node.pos
        text = self.tree.text[:pos]
        nl = text.rfind("\n")
        col = pos if nl < 0 else pos - (nl + 1)
        line = 1 + text.count("\n")
        ctx = str(self.node)
        raise ExecError(
            "template: %s:%d:%d: executing %s at <%s>: %s"
            % (self.name, line, col, quote(name), ctx, msg)
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
        if isinstance(node, ActionNode):
            val = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.at(node)
                self.out.append("<no value>" if val is NO_VALUE else go_format(val))
        elif isinstance(node, ListNode):
            for n in node.nodes:
                self.walk(dot, n)
        elif isinstance(node, TextNode):
            self.out.append(node.text)
        elif isinstance(node, IfNode):
            self.walk_if_or_with(False, dot, node)
        elif isinstance(node, WithNode):
            self.walk_if_or_with(True, dot, node)
        elif isinstance(node, RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, BreakNode):
            raise _Break()
        elif isinstance(node, ContinueNode):
            raise _Continue()
        else:  # pragma: no cover
            self.errorf("unknown node: %s" % node)

    def walk_if_or_with(self, is_with, dot, node):
        mark = self.mark()
        saved_boxed = self.dot_boxed
        try:
            val = self.eval_pipeline(dot, node.pipe)
            if is_true(val):
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
                        for k in sorted(val, key=sort_key):
                            one(k, val[k], True)
                        return
                elif is_int(val):
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
        tree = self.trees.get(t.name)
        if tree is None or tree.root is None:
            self.errorf("template %s not defined" % quote(t.name))
        if self.depth >= _MAX_DEPTH:
            self.errorf("exceeded maximum template depth (%d)" % _MAX_DEPTH)
        new_dot = self.eval_pipeline(dot, t.pipe)
        st = State(self.name, self.trees, tree, self.funcs, self.missingkey)
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
        if isinstance(first, FieldNode):
            self.at(first)
            return self.eval_field_chain(dot, dot, self.dot_boxed, first, first.ident, cmd.args, final)
        if isinstance(first, ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, BoolNode):
            return first.val
        if isinstance(first, DotNode):
            return dot
        if isinstance(first, NilNode):
            self.errorf("nil is not a command")
        if isinstance(first, NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, StringNode):
            return first.text
        self.errorf("can't evaluate command %s" % first)  # pragma: no cover

    def ideal_constant(self, n: NumberNode):
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
        if isinstance(chain.node, NilNode):
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
                self.errorf("nil data; no entry for key %s" % quote(name))
            return NO_VALUE
        if receiver is None:
            self.errorf("nil pointer evaluating interface {}.%s" % name)
        has_args = (args is not None and len(args) > 1) or final is not _MISSING
        if isinstance(receiver, dict):
            if has_args:
                self.errorf("%s is not a method but has arguments" % name)
            if name in receiver:
                return receiver[name]
            if self.missingkey == "error":
                self.errorf("map has no entry for key %s" % quote(name))
            if self.missingkey == "zero":
                return None  # the zero value of interface{}
            return NO_VALUE
        typ = "interface {}" if boxed else type_name(receiver)
        self.errorf("can't evaluate field %s in type %s" % (name, typ))

    def eval_function(self, dot, node, cmd, args, final):
        self.at(node)
        name = node.ident
        fn = self.funcs.get(name) or BUILTINS.get(name)
        if fn is None:
            self.errorf("%s is not a defined function" % quote(name))
        return self.eval_call(dot, fn, name in BUILTINS and name not in self.funcs, cmd, name, args, final)

    def eval_call(self, dot, fn: Func, is_builtin, node, name, args, final):
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
                if is_true(indirect_iface(v)) == (name == "or"):
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
        except FuncError as e:
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
            if is_int(value):
                return value
        elif kind == "strings":
            if isinstance(value, (list, tuple)) and all(isinstance(x, str) for x in value):
                return list(value)
        got = "interface {}" if value is None else type_name(value)
        self.errorf("wrong type for value; expected %s; got %s" % (_KIND_NAMES[kind], got))

    def eval_arg(self, dot, kind, n):
        self.at(n)
        if isinstance(n, DotNode):
            return self.validate_type(dot, kind)
        if isinstance(n, NilNode):
            if kind in ("any", None):
                return None
            if kind == "value":
                return NO_VALUE
            if kind == "strings":
                return []
            self.errorf("cannot assign nil to %s" % _KIND_NAMES[kind])
        if isinstance(n, FieldNode):
            return self.validate_type(
                self.eval_field_chain(dot, dot, self.dot_boxed, n, n.ident, [n], _MISSING), kind
            )
        if isinstance(n, VariableNode):
            return self.validate_type(self.eval_variable_node(dot, n, None, _MISSING), kind)
        if isinstance(n, PipeNode):
            return self.validate_type(self.eval_pipeline(dot, n), kind)
        if isinstance(n, IdentifierNode):
            return self.validate_type(self.eval_function(dot, n, n, None, _MISSING), kind)
        if isinstance(n, ChainNode):
            return self.validate_type(self.eval_chain_node(dot, n, None, _MISSING), kind)
        # constants
        if kind == "string":
            if isinstance(n, StringNode):
                return n.text
            self.errorf("expected string; found %s" % n)
        if kind == "int":
            if isinstance(n, NumberNode) and n.is_int:
                return n.int_val
            self.errorf("expected integer; found %s" % n)
        if kind in ("any", "value", None):
            if isinstance(n, BoolNode):
                return n.val
            if isinstance(n, NumberNode):
                return self.ideal_constant(n)
            if isinstance(n, StringNode):
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
