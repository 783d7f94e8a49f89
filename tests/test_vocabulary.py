"""Statuses, operations and outcomes are written through the vocabulary's enums, never as
bare strings (issue 15): a misspelt status is then a mypy error, and every word is found
from its enum. Read from the source, so it runs in milliseconds."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from db import vocabulary
from workflows.telegram_login import LoginStatus

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "activities", "workflows", "db", "tgflows")
# The vocabulary itself; migrations are history, written once.
EXEMPT = {"db/vocabulary.py"}
ENUMS = (
    vocabulary.CampaignStatus,
    vocabulary.ExecutionStatus,
    vocabulary.LifecycleOp,
    vocabulary.SendOutcome,
    vocabulary.HaltAction,
    vocabulary.StepOutcome,
    vocabulary.AccountStatus,
    vocabulary.LogEvent,
    vocabulary.LogStatus,
    vocabulary.MessageStatus,
    vocabulary.WebhookEvent,
    vocabulary.DeliveryStatus,
    LoginStatus,
)
WORDS = {member.value for enum in ENUMS for member in enum}
# Node types are also node ids and edge ends in flow documents (the demo flow, the
# OpenAPI example): they count where a node's type is compared.
NODE_TYPES = {member.value for member in vocabulary.NodeType}
# Words that also mean something else where they appear: a login step's state, a
# report's column names, health answers.
OTHER_MEANINGS = {"ok", "connected", "sent", "failed", "replied", "pending", "read"}
# A word as text for a person: the waiting group's description.
PROSE = {("api/reports/pace.py", "paused")}
# Comparisons with a word of another vocabulary: an update's kind (a read receipt), an
# activity's registered name, a health answer, report columns.
COMPARED_ELSEWHERE = {
    ("activities/listener.py", "read"),
    ("activities/metrics.py", "send_message"),
    ("workflows/worker_monitor.py", "ok"),
    ("db/repositories/timeseries.py", "sent"),
    ("db/repositories/timeseries.py", "replied"),
    ("db/repositories/timeseries.py", "read"),
}


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
        if isinstance(node, ast.keyword) and node.arg in ("code", "name"):
            skip.add(id(node.value))
        if isinstance(node, ast.Subscript):
            skip.add(id(node.slice))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value


def compared(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """String constants compared (==, !=, in), alone or in a tuple, list or set."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                items = side.elts if isinstance(side, ast.Tuple | ast.List | ast.Set) else [side]
                for item in items:
                    if isinstance(item, ast.Constant) and isinstance(item.value, str):
                        yield item.lineno, item.value


def sources() -> Iterator[tuple[str, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            if "migrations" not in name and name not in EXEMPT:
                yield name, ast.parse(path.read_text())


def bare_words(words: set[str]) -> list[str]:
    return [
        f"{name}:{line} {value!r}"
        for name, tree in sources()
        for line, value in literals(tree)
        if value in words and (name, value) not in PROSE
    ]


def test_no_status_operation_or_outcome_written_bare() -> None:
    assert bare_words(WORDS - OTHER_MEANINGS) == []


def test_no_status_or_node_type_compared_bare() -> None:
    """Stricter where a word is compared: the words with other meanings count too."""
    found = [
        f"{name}:{line} {value!r}"
        for name, tree in sources()
        for line, value in compared(tree)
        if value in WORDS | NODE_TYPES and (name, value) not in COMPARED_ELSEWHERE
    ]
    assert found == []


def test_the_comparison_scan_finds_a_bare_node_type() -> None:
    tree = ast.parse('if node.type in ("delay", x) or result.outcome != "sent":\n    pass\n')
    assert sorted(compared(tree)) == [(1, "delay"), (1, "sent")]


def test_the_scan_finds_a_bare_status() -> None:
    tree = ast.parse('"""doc"""\nif campaign.status == "paused":\n    x = {"paused": 1}\n')
    assert list(literals(tree)) == [(2, "paused")]


def test_every_enum_is_a_str_enum() -> None:
    assert all(issubclass(enum, StrEnum) for enum in (*ENUMS, vocabulary.NodeType))
