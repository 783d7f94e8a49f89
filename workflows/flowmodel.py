"""The flow model: nodes, edges, durations, variants and conditions (pure, no I/O).

workflows.flowgraph parses and validates documents into these; workflows.flowstep says
what each node does with them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from db.vocabulary import NodeType, ReplyCategory
from workflows.limits import MAX_WAIT_SECONDS, MIN_WAIT_SECONDS

NODE_TYPES = frozenset(NodeType)
CONDITION_OPS = frozenset({"eq", "ne", "contains", "exists", "gt", "lt"})
# A condition on `reply.category` compares with one of these.
REPLY_CATEGORIES = frozenset(ReplyCategory)
WAITING_TYPES = frozenset({NodeType.DELAY, NodeType.WAIT_FOR_REPLY})
_DURATION = re.compile(r"^\s*(\d{1,12})\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class EdgeLabel(StrEnum):
    """The labels a node's outcome follows (flowgraph requires them on these nodes)."""

    REPLIED = "replied"  # wait_for_reply
    NO_REPLY = "no_reply"
    TRUE = "true"  # condition
    FALSE = "false"


class FlowError(ValueError):
    """A flow that cannot run; names the node or edge at fault."""

    def __init__(self, message: str, *, node_id: str | None = None, edge: int | None = None):
        where = (
            f"node '{node_id}'"
            if node_id is not None
            else (f"edge #{edge}" if edge is not None else "flow")
        )
        super().__init__(f"{where}: {message}")
        self.node_id = node_id
        self.edge = edge
        self.reason = message


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str | None
    weight: float


@dataclass(frozen=True)
class Variant:
    name: str
    text: str
    weight: float


@dataclass
class Flow:
    nodes: dict[str, Node]
    edges: list[Edge]
    start_id: str
    out: dict[str, list[Edge]] = field(default_factory=dict)

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def next_node(self, node_id: str, label: str | None = None) -> str | None:
        """The successor of a node, following the edge with the given label if it has one."""
        edges = self.out.get(node_id, [])
        if label is not None:
            for edge in edges:
                if edge.label == label:
                    return edge.target
            return None
        return edges[0].target if edges else None

    def arms(self, node: Node) -> list[str]:
        """What an A/B node chooses between: an ab_split's targets, a send's variant names."""
        if node.type == NodeType.AB_SPLIT:
            return list(dict.fromkeys(e.target for e in self.out.get(node.id, [])))
        return [v.name for v in variants(node)]

    def choose_weighted(self, node_id: str, r: float) -> str:
        """The ab_split branch for a uniform draw r in [0, 1)."""
        edges = self.out[node_id]
        return edges[_pick([e.weight for e in edges], r)].target


def parse_duration(value: Any, *, node_id: str, key: str) -> int:
    """Seconds from a number or a string such as "90", "30m", "2d", within the limits."""
    bounds = f"between {MIN_WAIT_SECONDS} second and {MAX_WAIT_SECONDS // 86400} days"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FlowError(f"'{key}' must be seconds or a duration like '2d'", node_id=node_id)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m is None:
            raise FlowError(
                f"'{key}' must be seconds or a duration like '30m', '2d', '1w'", node_id=node_id
            )
        seconds = int(m.group(1)) * _UNITS[m.group(2)]
    elif isinstance(value, float) and not math.isfinite(value):
        raise FlowError(f"'{key}' must be a finite number of seconds", node_id=node_id)
    else:
        if not MIN_WAIT_SECONDS <= value <= MAX_WAIT_SECONDS:
            raise FlowError(f"'{key}' must be {bounds}", node_id=node_id)
        seconds = math.ceil(value)
    if not MIN_WAIT_SECONDS <= seconds <= MAX_WAIT_SECONDS:
        raise FlowError(f"'{key}' must be {bounds}", node_id=node_id)
    return seconds


def delay_seconds(node: Node) -> int:
    data = node.data
    raw = data.get("seconds", data.get("duration"))
    return parse_duration(raw, node_id=node.id, key="seconds")


def reply_timeout_seconds(node: Node) -> int:
    data = node.data
    raw = data.get("timeout_seconds", data.get("timeout"))
    return parse_duration(raw, node_id=node.id, key="timeout_seconds")


def variants(node: Node) -> list[Variant]:
    raw = node.data.get("variants") or []
    return [
        Variant(
            str(v.get("name") or f"V{i + 1}"), str(v.get("text", "")), float(v.get("weight", 1))
        )
        for i, v in enumerate(raw)
    ]


def choose_variant(node: Node, r: float) -> Variant | None:
    options = variants(node)
    if not options:
        return None
    return options[_pick([v.weight for v in options], r)]


def _pick(weights: list[float], r: float) -> int:
    total = sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w / total
        if r < acc:
            return i
    return len(weights) - 1


def evaluate_condition(node: Node, variables: Mapping[str, Any]) -> bool:
    """Evaluate a condition node against contact fields and context."""
    data = node.data
    key = str(data.get("field", ""))
    op = str(data.get("op", "eq"))
    expected = data.get("value")
    actual = lookup(variables, key)
    if op == "exists":
        return actual not in (None, "")
    if op == "eq":
        return bool(_loose(actual) == _loose(expected))
    if op == "ne":
        return bool(_loose(actual) != _loose(expected))
    if op == "contains":
        if isinstance(actual, list):
            return bool(expected in actual)
        return actual is not None and str(expected).lower() in str(actual).lower()
    try:
        a, b = float(actual), float(expected)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return bool(a > b) if op == "gt" else bool(a < b)


def lookup(variables: Mapping[str, Any], dotted: str) -> Any:
    value: Any = variables
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _loose(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def check_reachable(flow: Flow) -> None:
    """Refuse a node that no path from the start reaches."""
    seen = {flow.start_id}
    stack = [flow.start_id]
    while stack:
        for edge in flow.out.get(stack.pop(), []):
            if edge.target not in seen:
                seen.add(edge.target)
                stack.append(edge.target)
    for node_id in flow.nodes:
        if node_id not in seen:
            raise FlowError("unreachable from the start node", node_id=node_id)


def check_cycles(flow: Flow) -> None:
    """Reject a cycle that has no delay or wait in it: it would spin forever."""
    # Remove waiting nodes; any cycle left is a cycle without a wait.
    graph = {
        n: [e.target for e in flow.out.get(n, []) if flow.nodes[e.target].type not in WAITING_TYPES]
        for n, node in flow.nodes.items()
        if node.type not in WAITING_TYPES
    }
    state: dict[str, int] = {}
    for root in graph:
        if state.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            current, i = stack[-1]
            successors = graph[current]
            if i < len(successors):
                stack[-1] = (current, i + 1)
                nxt = successors[i]
                if state.get(nxt) == 1:
                    path = [n for n, _ in stack]
                    cycle = [*path[path.index(nxt) :], nxt]
                    raise FlowError(
                        "is in a cycle with no delay or wait_for_reply: " + " -> ".join(cycle),
                        node_id=nxt,
                    )
                if not state.get(nxt):
                    state[nxt] = 1
                    stack.append((nxt, 0))
            else:
                state[current] = 2
                stack.pop()
