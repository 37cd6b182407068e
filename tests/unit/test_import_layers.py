"""The sub-packages of ``loyalty/`` import one another without a cycle.

Every import counts, at module level or inside a function: an import moved into a function to dodge
a cycle is still a dependency. The imports are read from the source (``ast``), nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

LOYALTY = Path(__file__).resolve().parents[2] / "loyalty"


def subpackage_imports(package: Path) -> dict[str, set[str]]:
    """For each sub-package of ``package``, the other sub-packages its modules import."""
    subpackages = {path.parent.name for path in package.glob("*/__init__.py")}
    imports: dict[str, set[str]] = {name: set() for name in subpackages}
    for source in package.glob("*/**/*.py"):
        importer = source.relative_to(package).parts[0]
        module = [package.name, *source.relative_to(package).with_suffix("").parts]
        for imported in _imported_modules(ast.parse(source.read_text(encoding="utf-8")), module):
            parts = imported.split(".")
            if parts[0] == package.name and len(parts) > 1 and parts[1] in subpackages and parts[1] != importer:
                imports[importer].add(parts[1])
    return imports


def _imported_modules(tree: ast.Module, module: list[str]) -> list[str]:
    """The dotted names ``tree`` imports, anywhere in it; ``from a import b`` names ``a.b`` too, which
    may be a module; relative imports are resolved against ``module``, the importing module's name."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = module[: len(module) - node.level] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            found += [origin, *(f"{origin}.{alias.name}" for alias in node.names)]
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as the path that closes it (``[a, b, a]``), or None (depth-first search)."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        path.append(node)
        for successor in sorted(graph.get(node, ())):
            cycle = visit(successor)
            if cycle is not None:
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle is not None:
            return cycle
    return None


def test_loyalty_subpackages_import_one_another_without_a_cycle() -> None:
    cycle = find_cycle(subpackage_imports(LOYALTY))
    assert cycle is None, "loyalty's sub-packages import one another in a cycle: " + " -> ".join(cycle or [])


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_an_import_inside_a_function_still_closes_a_cycle(tmp_path: Path) -> None:
    package = tmp_path / "core"
    for name in ("core/__init__.py", "core/a/__init__.py", "core/b/__init__.py", "core/c/__init__.py"):
        _write(tmp_path, name, "")
    _write(tmp_path, "core/a/operations.py", "from core.b import models\n")
    _write(tmp_path, "core/b/models.py", "def later():\n    from ..c.rules import rule\n")
    _write(tmp_path, "core/c/rules.py", "from core import a\n")

    assert subpackage_imports(package) == {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    assert find_cycle(subpackage_imports(package)) == ["a", "b", "c", "a"]


def test_layered_packages_have_no_cycle() -> None:
    assert find_cycle({"purchases": {"segments", "program"}, "segments": {"program"}, "program": set()}) is None
