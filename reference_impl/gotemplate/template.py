"""``Template``: parse once, execute per row (Go's text/template/template.go and
helper.go), with docker's functions or its header functions."""
from __future__ import annotations

from typing import Any

from reference_impl.gotemplate.exec import ExecError, State
from reference_impl.gotemplate.funcs import ALL_FUNC_NAMES, DOCKER_FUNCS, HEADER_FUNCS
from reference_impl.gotemplate.parser import Parser
from reference_impl.gotemplate.strconv import quote
from reference_impl.gotemplate.values import NO_VALUE, TemplateError


class Template:
    """A parsed template; ``execute(data)`` may be called many times."""

    def __init__(self, text: str, name: str = "", missingkey: str = "default"):
        if missingkey not in ("default", "invalid", "zero", "error"):
            raise ValueError("unrecognized missingkey option: %r" % missingkey)
        self.name = name
        self.text = text
        self.missingkey = "default" if missingkey == "invalid" else missingkey
        self._trees = Parser(name, text, ALL_FUNC_NAMES).parse()

    def _run(self, data, funcs) -> str:
        tree = self._trees.get(self.name)
        st = State(self.name, self._trees, tree, funcs, self.missingkey)
        dot = NO_VALUE if data is None else data
        st.vars = [["$", dot]]
        try:
            if tree is None or tree.root is None:
                st.errorf("%s is an incomplete or empty template" % quote(self.name))
            st.walk(dot, tree.root)
        except ExecError as e:
            raise TemplateError(str(e), "".join(st.out)) from None
        except RecursionError:
            raise TemplateError(
                "template: %s: exceeded maximum template depth" % self.name, "".join(st.out)
            ) from None
        return "".join(st.out)

    def execute(self, data: Any) -> str:
        """Execute with docker's template functions."""
        return self._run(data, DOCKER_FUNCS)

    def execute_header(self, data: Any) -> str:
        """Execute with docker's HeaderFunctions (used for table headers)."""
        funcs = dict(DOCKER_FUNCS)
        funcs.update(HEADER_FUNCS)
        return self._run(data, funcs)


def parse(template: str, missingkey: str = "default") -> Template:
    """Parse ``template`` (raises TemplateError on a syntax error).

    ``missingkey="error"`` mirrors Go's ``Option("missingkey=error")`` (what
    ``docker inspect`` uses when it falls back to raw JSON data)."""
    return Template(template, missingkey=missingkey)


def render(template: str, data: Any, missingkey: str = "default") -> str:
    """Parse and execute ``template`` against ``data``."""
    return parse(template, missingkey=missingkey).execute(data)
