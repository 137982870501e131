"""No module uses another module's `_private` names: `from x import _y`, `x._y` where x is
an imported module, and `import x._y` are refused (a module's own privates, and dunders,
are its business). Walks every module of the project with `ast`; only the project's own
modules count (the standard library's documented `os._exit` is its own affair)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["reference_impl", "conformance", "reports", "vms", "bench"]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _ours(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    imported_modules: set[str] = set()  # local names bound to imported modules
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _ours(alias.name):
                    continue
                if any(_private(part) for part in alias.name.split(".")):
                    found.append(f"{path}:{node.lineno}: import {alias.name}")
                imported_modules.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and not _ours(module):
                continue
            if any(_private(part) for part in module.split(".")):
                found.append(f"{path}:{node.lineno}: from {module} import …")
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{path}:{node.lineno}: from {module} import {alias.name}")
                else:
                    imported_modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name) \
                and node.value.id in imported_modules:
            found.append(f"{path}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def project_modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_no_module_uses_another_modules_private_names():
    found = [v for path in project_modules() for v in violations(path)]
    assert found == [], "\n".join(found)


def test_the_check_sees_a_private_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from reference_impl.shim import _x\nimport reference_impl.runtime as rt\nrt._y()\n"
                      "from reference_impl import layers\nlayers._z\nimport os\nos._exit(0)\n")
    assert len(violations(sample)) == 3
