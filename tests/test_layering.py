"""The import graph flows one way and SQL stays in db/ (issue 15), read from the source."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tgflows", "api", "workflows", "activities", "simulator", "db")
# What each package may not import. activities may import the workflows' vocabulary
# (workflows.types, workflows.lifecycle, workflows.pacing); the api imports workflows but
# no activity: it reaches Telegram through workflows.telegram_login, which the wiring
# (tgflows) fills with activities.telegram.login.
FORBIDDEN = {
    "api": {"tgflows", "activities"},
    "workflows": {"tgflows", "api"},
    "activities": {"tgflows", "api"},
    "simulator": {"tgflows", "api", "workflows", "activities"},
    "db": {"tgflows", "api", "workflows", "activities", "simulator"},
}
# sqlalchemy names that build a statement; allowed only in db/.
STATEMENTS = {"select", "insert", "update", "delete", "text", "exists", "union", "union_all"}


def modules(package: str) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


def imported(tree: ast.Module) -> Iterator[tuple[int, str, list[str]]]:
    """Every import: its line, the module, and the names taken from it."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module, [a.name for a in node.names]


def test_packages_import_nothing_above_them() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for package, forbidden in FORBIDDEN.items()
        for path, tree in modules(package)
        for line, module, _ in imported(tree)
        if module.split(".")[0] in forbidden
    ]
    assert wrong == []


def test_no_sql_statement_built_outside_db() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} takes {sorted(set(names) & STATEMENTS)} from {module}"
        for package in PACKAGES
        if package != "db"
        for path, tree in modules(package)
        for line, module, names in imported(tree)
        if module.split(".")[0] == "sqlalchemy" and set(names) & STATEMENTS
    ]
    assert wrong == []


def test_the_checks_see_a_wrong_way_import() -> None:
    tree = ast.parse("from tgflows.worker import main\nfrom sqlalchemy import select, func\n")
    found = list(imported(tree))
    assert (1, "tgflows.worker", ["main"]) in found
    assert (2, "sqlalchemy", ["select", "func"]) in found
