"""spectype.models has no import cycles, counting imports inside functions too.

A cycle hidden in a function body (epsanet importing fusion, which imports epsanet) still ties
two modules into one: neither can change or be tested alone. The graph is read from the source
(ast), so lazy imports count; the registry finds model modules by walking the package at run
time, which is no import of any one of them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import spectype.models

PACKAGE = "spectype.models"
ROOT = Path(spectype.models.__file__).parent


def module_files(root: Path, package: str) -> dict[str, tuple[Path, bool]]:
    """{dotted module name: (file, is_package)} for every .py file under root."""
    out = {}
    for path in root.rglob("*.py"):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def import_graph(modules: dict[str, tuple[Path, bool]]) -> dict[str, set[str]]:
    """module -> the modules of `modules` it imports anywhere in its source."""

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, (path, is_package) in modules.items():
        for node in _walk_skipping_main(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = mod.split(".") if is_package else mod.split(".")[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from pkg import name` imports pkg.name when that is a module, else pkg itself.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            else:
                continue
            graph[mod] |= {t for t in map(known, targets) if t is not None and t != mod}
    return graph


def _walk_skipping_main(tree: ast.AST):
    """ast.walk without the bodies of `if __name__ == "__main__":` blocks: run with -m, a file
    is the module `__main__`, not itself, so what it imports there closes no cycle."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "__main__" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while component[-1:] != [v]:
                component.append(stack.pop())
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_spectype_models_has_no_import_cycle():
    modules = module_files(ROOT, PACKAGE)
    assert {"spectype.models.fusion", "spectype.models.epsanet", "spectype.models.gan.lcgan"} <= set(modules)
    assert cycles(import_graph(modules)) == []


def test_the_checker_sees_lazy_and_package_cycles(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import f\n")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n    return g\n")
    (pkg / "b.py").write_text("from . import a\n")
    (pkg / "c.py").write_text("from .sub import d\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "d.py").write_text("from .. import c\n")
    (pkg / "e.py").write_text("import pkg.a\n")
    graph = import_graph(module_files(pkg, "pkg"))
    assert graph["pkg.e"] == {"pkg.a"} and graph["pkg"] == {"pkg.a"}
    assert sorted(cycles(graph)) == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.sub.d"]]


def test_the_registry_imports_no_model_module():
    graph = import_graph(module_files(ROOT, PACKAGE))
    assert graph["spectype.models.registry"] == set()
    assert "spectype.models.fusion" not in graph["spectype.models.epsanet"]
    assert "spectype.models.branches" in graph["spectype.models.epsanet"]


def test_the_whole_package_has_one_cycle_only_the_reader_plugin_list():
    """No cycle anywhere in spectype except the format registry's plugin pattern, which io/
    keeps (issue #12: io/ is the house style): io.registry loads io.formats at first use, and
    every reader module imports io.registry to register itself. Without that one edge, none."""
    root = ROOT.parent
    graph = import_graph(module_files(root, "spectype"))
    found = cycles(graph)
    assert [c for c in found if not all(m.startswith("spectype.io.") for m in c)] == []
    graph["spectype.io.registry"].discard("spectype.io.formats")
    assert cycles(graph) == []


def test_a_main_block_import_is_no_cycle(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("x = 1\nif __name__ == '__main__':\n    from pkg import a\nelse:\n    import pkg.c\n")
    (pkg / "c.py").write_text("")
    graph = import_graph(module_files(pkg, "pkg"))
    assert graph["pkg.b"] == {"pkg.c"} and cycles(graph) == []
