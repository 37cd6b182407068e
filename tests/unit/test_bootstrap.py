"""Who reacts to what is read in one place: ``notifications/bootstrap.py``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "loyalty", "rewards", "notifications", "reporting")


def _wiring_calls(tree: ast.AST) -> list[int]:
    """The lines that subscribe an in-transaction handler or build an outbox consumer."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        is_outbox = not isinstance(func, ast.Attribute) or (isinstance(func.value, ast.Name) and func.value.id == "outbox")
        if (name == "subscribe" and is_outbox) or name == "Consumer":
            lines.append(node.lineno)
    return lines


def test_handlers_and_consumers_are_wired_in_bootstrap_only() -> None:
    elsewhere = {
        f"{path.relative_to(ROOT)}:{line}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / "notifications" / "bootstrap.py"
        for line in _wiring_calls(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert elsewhere == set()


def test_the_scan_sees_bootstrap_s_own_wiring() -> None:
    """The scan above finds what it looks for: bootstrap's subscriptions and consumers."""
    assert len(_wiring_calls(ast.parse((ROOT / "notifications" / "bootstrap.py").read_text(encoding="utf-8")))) >= 3

