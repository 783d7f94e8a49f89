"""The pure flow model, without Temporal."""

from __future__ import annotations

from typing import Any

import pytest

from workflows import flowgraph
from workflows.flowgraph import FlowError, parse


def flow(
    nodes: list[tuple[str, str, dict[str, Any]]], edges: list[tuple[Any, ...]]
) -> dict[str, Any]:
    return {
        "nodes": [{"id": i, "type": t, "data": d} for i, t, d in nodes],
        "edges": [
            {
                "source": e[0],
                "target": e[1],
                **({"label": e[2]} if len(e) > 2 and e[2] else {}),
                **({"data": {"weight": e[3]}} if len(e) > 3 else {}),
            }
            for e in edges
        ],
    }


BASIC = flow(
    [("s", "start", {}), ("m", "send_message", {"text": "Hi {first_name}"}), ("e", "end", {})],
    [("s", "m"), ("m", "e")],
)


def test_parse_and_next_node() -> None:
    f = parse(BASIC)
    assert f.start_id == "s"
    assert f.next_node("s") == "m"
    assert f.next_node("e") is None


@pytest.mark.parametrize(
    ("doc", "node", "fragment"),
    [
        (flow([("s", "start", {}), ("x", "teleport", {})], [("s", "x")]), "x", "unknown node type"),
        (
            flow([("m", "send_message", {"text": "a"}), ("e", "end", {})], [("m", "e")]),
            None,
            "exactly one start",
        ),
        (
            flow(
                [("s", "start", {}), ("m", "send_message", {}), ("e", "end", {})],
                [("s", "m"), ("m", "e")],
            ),
            "m",
            "'text' is required",
        ),
        (
            flow([("s", "start", {}), ("e", "end", {}), ("o", "end", {})], [("s", "e")]),
            "o",
            "unreachable",
        ),
        (
            flow(
                [("s", "start", {}), ("d", "delay", {"seconds": -1}), ("e", "end", {})],
                [("s", "d"), ("d", "e")],
            ),
            "d",
            "between 1 second and 365 days",
        ),
        (
            flow(
                [
                    ("s", "start", {}),
                    ("w", "wait_for_reply", {"timeout_seconds": 5}),
                    ("e", "end", {}),
                ],
                [("s", "w"), ("w", "e", "replied")],
            ),
            "w",
            "no_reply",
        ),
        (
            flow(
                [
                    ("s", "start", {}),
                    ("c", "condition", {"field": "contact.x", "op": "eq"}),
                    ("m", "send_message", {"text": "a"}),
                ],
                [("s", "c"), ("c", "m", "true"), ("c", "c", "false"), ("m", "c")],
            ),
            "c",
            "cycle with no delay",
        ),
        (
            flow(
                [
                    ("s", "start", {}),
                    ("c", "condition", {"field": "x", "op": "like"}),
                    ("e", "end", {}),
                ],
                [("s", "c"), ("c", "e", "true"), ("c", "e", "false")],
            ),
            "c",
            "'op' must be",
        ),
    ],
)
def test_invalid_flows_name_the_node(doc: dict[str, Any], node: str | None, fragment: str) -> None:
    with pytest.raises(FlowError) as err:
        parse(doc)
    assert err.value.node_id == node
    assert fragment in str(err.value)
    if node:
        assert f"node '{node}'" in str(err.value)


def test_dangling_edge_names_the_edge() -> None:
    doc = flow([("s", "start", {}), ("e", "end", {})], [("s", "e"), ("e", "ghost")])
    with pytest.raises(FlowError) as err:
        parse(doc)
    assert err.value.edge == 1
    assert "ghost" in str(err.value)


def test_cycle_through_a_delay_is_allowed() -> None:
    doc = flow(
        [
            ("s", "start", {}),
            ("m", "send_message", {"text": "ping"}),
            ("d", "delay", {"seconds": "1d"}),
            ("e", "end", {}),
        ],
        [("s", "m"), ("m", "d"), ("d", "m")],
    )
    doc["nodes"].pop()  # the end node would be unreachable
    f = parse(doc)
    assert flowgraph.delay_seconds(f.node("d")) == 86400


def test_not_an_object() -> None:
    with pytest.raises(FlowError):
        parse([1, 2])
    with pytest.raises(FlowError):
        parse({"nodes": []})


@pytest.mark.parametrize(
    ("value", "seconds"), [(90, 90), ("90", 90), ("30m", 1800), ("2d", 172800), ("1w", 604800)]
)
def test_durations(value: object, seconds: int) -> None:
    assert flowgraph.parse_duration(value, node_id="n", key="seconds") == seconds


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("eq", "ada", True),
        ("ne", "ada", False),
        ("contains", "D", True),
        ("exists", None, True),
        ("gt", 3, False),
        ("lt", 3, False),
    ],
)
def test_conditions(op: str, value: object, expected: bool) -> None:
    node = flowgraph.Node(
        "c", "condition", {"field": "contact.first_name", "op": op, "value": value}
    )
    assert flowgraph.evaluate_condition(node, {"contact": {"first_name": "Ada"}}) is expected


def test_numeric_condition_and_context() -> None:
    node = flowgraph.Node("c", "condition", {"field": "context.score", "op": "gt", "value": 3})
    assert flowgraph.evaluate_condition(node, {"context": {"score": 5}})
    assert not flowgraph.evaluate_condition(node, {"context": {}})


def test_weighted_choice_follows_weights() -> None:
    doc = flow(
        [("s", "start", {}), ("ab", "ab_split", {}), ("a", "end", {}), ("b", "end", {})],
        [("s", "ab"), ("ab", "a", None, 20), ("ab", "b", None, 80)],
    )
    f = parse(doc)
    picks = [f.choose_weighted("ab", i / 1000) for i in range(1000)]
    assert picks.count("a") == 200
    assert picks.count("b") == 800


def test_variants() -> None:
    node = flowgraph.Node(
        "m",
        "send_message",
        {
            "variants": [
                {"name": "A", "text": "a", "weight": 1},
                {"name": "B", "text": "b", "weight": 3},
            ]
        },
    )
    assert flowgraph.choose_variant(node, 0.1).name == "A"  # type: ignore[union-attr]
    assert flowgraph.choose_variant(node, 0.5).name == "B"  # type: ignore[union-attr]
