"""Statuses, operations and outcomes are written through the vocabulary's enums, never as
bare strings (issue 15): a misspelt status is then a mypy error, and every word is found
from its enum. Read from the source, so it runs in milliseconds."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from db import vocabulary

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "activities", "workflows", "db", "tgflows")
# The vocabulary itself; migrations are history, written once.
EXEMPT = {"db/vocabulary.py", "workflows/lifecycle.py"}
ENUMS = (
    vocabulary.CampaignStatus,
    vocabulary.ExecutionStatus,
    vocabulary.LifecycleOp,
    vocabulary.SendOutcome,
    vocabulary.HaltAction,
    vocabulary.StepOutcome,
    vocabulary.AccountStatus,
)
WORDS = {member.value for enum in ENUMS for member in enum}
# Words that also mean something else where they appear: a login step's state, a
# report's column names, health answers.
OTHER_MEANINGS = {"ok", "connected", "sent", "failed", "replied", "pending", "read"}
# A word as text for a person: the waiting group's description.
PROSE = {("api/reports/pace.py", "paused")}


def literals(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """String constants that are not docstrings, dict keys, labels, f-string parts,
    subscripts, or codes (error codes and diagnosis reason codes are their own words)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))
        if isinstance(node, ast.ClassDef) and any(
            getattr(base, "id", "") == "StrEnum" for base in node.bases
        ):
            skip |= {id(sub) for sub in ast.walk(node)}
        if isinstance(node, ast.Dict):
            skip |= {id(key) for key in node.keys if key is not None}
        if isinstance(node, ast.JoinedStr):
            skip |= {id(sub) for sub in ast.walk(node)}
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("label", "signal"):
            skip |= {id(arg) for arg in node.args}
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "reason" and node.args:
            skip.add(id(node.args[0]))
        if isinstance(node, ast.keyword) and node.arg == "code":
            skip.add(id(node.value))
        if isinstance(node, ast.Subscript):
            skip.add(id(node.slice))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value


def bare_words(words: set[str]) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            if "migrations" in name or name in EXEMPT:
                continue
            for line, value in literals(ast.parse(path.read_text())):
                if value in words and (name, value) not in PROSE:
                    found.append(f"{name}:{line} {value!r}")
    return found


def test_no_status_operation_or_outcome_written_bare() -> None:
    assert bare_words(WORDS - OTHER_MEANINGS) == []


def test_the_scan_finds_a_bare_status() -> None:
    tree = ast.parse('"""doc"""\nif campaign.status == "paused":\n    x = {"paused": 1}\n')
    assert list(literals(tree)) == [(2, "paused")]


def test_every_enum_is_a_str_enum() -> None:
    assert all(issubclass(enum, StrEnum) for enum in ENUMS)
