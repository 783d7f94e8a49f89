"""The import graph flows one way and SQL stays in db/ (issue 15), read from the source."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tgflows", "api", "workflows", "activities", "simulator", "db")
# What each package may not import. Between workflows and activities the graph flows one
# way: a workflow definition calls activities by method reference (it imports them), so
# activities import only the workflows modules that are shared rules, dataclasses and
# names, never a definition (test_activities_import_no_workflow_definition). The api
# imports those shared modules and no activity, not even through a workflow definition
# (test_the_api_loads_no_activity_even_through_workflows); it reaches Telegram through
# workflows.telegram_login, which the wiring (tgflows) fills with activities.telegram.login.
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


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def definitions(trees: dict[str, ast.Module]) -> set[str]:
    """The workflows modules above the activities: those defining a workflow or importing
    an activity, and every workflows module that imports one of them."""
    found = {
        name
        for name, tree in trees.items()
        if "@workflow.defn" in ast.unparse(tree)
        or any(module.split(".")[0] == "activities" for _, module, _ in imported(tree))
    }
    while True:
        more = {
            name
            for name, tree in trees.items()
            if name not in found
            and any(
                module in found or f"{module}.{n}" in found
                for _, module, names in imported(tree)
                for n in names or [""]
            )
        }
        if not more:
            return found
        found |= more


def test_activities_import_no_workflow_definition() -> None:
    trees = {module_name(path): tree for path, tree in modules("workflows")}
    above = definitions(trees)
    assert {"workflows.contact", "workflows.control", "workflows.webhooks"} <= above
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path, tree in modules("activities")
        for line, module, names in imported(tree)
        if module in above or any(f"{module}.{n}" in above for n in names)
    ]
    assert wrong == []


def reached(start: str, trees: dict[str, ast.Module]) -> set[str]:
    """The first-party modules loaded by importing the modules under `start`."""
    seen: set[str] = set()
    todo = [name for name in trees if name == start or name.startswith(f"{start}.")]
    while todo:
        name = todo.pop()
        if name in seen or name not in trees:
            continue
        seen.add(name)
        for _, module, names in imported(trees[name]):
            todo += [module, *(f"{module}.{n}" for n in names)]
            todo += [".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)]
    return seen


def test_the_api_loads_no_activity_even_through_workflows() -> None:
    """The api names the workflows it starts, signals and queries (workflows.types), so it
    never loads a workflow definition and with it the activities that one calls."""
    trees = {module_name(path): tree for package in PACKAGES for path, tree in modules(package)}
    loaded = reached("api", trees)
    assert "workflows.types" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] == "activities") == []
    assert (
        sorted(loaded & definitions({n: t for n, t in trees.items() if n.startswith("workflows")}))
        == []
    )


def test_the_definition_check_follows_imports() -> None:
    trees = {
        "workflows.a": ast.parse("from activities.sending import SendActivities\n"),
        "workflows.b": ast.parse("from workflows import a\n"),
        "workflows.c": ast.parse("from temporalio import workflow\n@workflow.defn\nclass C: ...\n"),
        "workflows.d": ast.parse("from workflows.types import Halt\n"),
    }
    assert definitions(trees) == {"workflows.a", "workflows.b", "workflows.c"}


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
