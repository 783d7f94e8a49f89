"""The pure flow model: parsing, validation and next-node semantics (no I/O)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows import abtest, templates
from workflows.limits import (
    MAX_CONDITION_VALUE_CHARS,
    MAX_FLOW_BYTES,
    MAX_FLOW_EDGES,
    MAX_FLOW_NODES,
    MAX_NODE_ID_CHARS,
    MAX_VARIANT_NAME_CHARS,
    MAX_VARIANTS,
    MAX_WAIT_SECONDS,
    MIN_WAIT_SECONDS,
)

NODE_TYPES = frozenset(
    {"start", "send_message", "delay", "wait_for_reply", "condition", "ab_split", "end"}
)
CONDITION_OPS = frozenset({"eq", "ne", "contains", "exists", "gt", "lt"})
# A condition on `reply.category` compares with one of these (db.vocabulary.ReplyCategory).
REPLY_CATEGORIES = frozenset({"opt_out", "interested", "not_interested", "out_of_office", "other"})
WAITING_TYPES = frozenset({"delay", "wait_for_reply"})
_DURATION = re.compile(r"^\s*(\d{1,12})\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


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
        if node.type == "ab_split":
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


def parse(raw: Any) -> Flow:
    """Parse and validate a flow document, raising FlowError naming the node or edge at fault."""
    if not isinstance(raw, Mapping):
        raise FlowError("must be an object with 'nodes' and 'edges'")
    raw_nodes, raw_edges = raw.get("nodes"), raw.get("edges", [])
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise FlowError("'nodes' must be a non-empty list")
    if not isinstance(raw_edges, list):
        raise FlowError("'edges' must be a list")
    if len(raw_nodes) > MAX_FLOW_NODES:
        raise FlowError(f"at most {MAX_FLOW_NODES} nodes, found {len(raw_nodes)}")
    if len(raw_edges) > MAX_FLOW_EDGES:
        raise FlowError(f"at most {MAX_FLOW_EDGES} edges, found {len(raw_edges)}")
    nodes: dict[str, Node] = {}
    for i, item in enumerate(raw_nodes):
        raw_id = item.get("id") if isinstance(item, Mapping) else None
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
            raise FlowError(f"node #{i} must be an object with an 'id'")
        node_id = str(raw_id)
        if not 0 < len(node_id) <= MAX_NODE_ID_CHARS:
            raise FlowError(f"node #{i}: 'id' must be 1 to {MAX_NODE_ID_CHARS} characters")
        if node_id in nodes:
            raise FlowError("duplicate node id", node_id=node_id)
        node_type = item.get("type")
        if not isinstance(node_type, str) or node_type not in NODE_TYPES:
            raise FlowError(f"unknown node type {node_type!r}", node_id=node_id)
        data = item.get("data") or {}
        if not isinstance(data, Mapping):
            raise FlowError("'data' must be an object", node_id=node_id)
        nodes[node_id] = Node(node_id, str(node_type), dict(data))
    edges = [_parse_edge(i, e, nodes) for i, e in enumerate(raw_edges)]
    starts = [n.id for n in nodes.values() if n.type == "start"]
    if len(starts) != 1:
        raise FlowError(f"must have exactly one start node, found {len(starts)}")
    out: dict[str, list[Edge]] = {}
    for edge in edges:
        out.setdefault(edge.source, []).append(edge)
    flow = Flow(nodes=nodes, edges=edges, start_id=starts[0], out=out)
    for node in nodes.values():
        _check_node(flow, node)
        _check_auto_winner(flow, node)
    _check_reachable(flow)
    _check_cycles(flow)
    return flow


def _parse_edge(i: int, item: Any, nodes: Mapping[str, Node]) -> Edge:
    if not isinstance(item, Mapping):
        raise FlowError("must be an object with 'source' and 'target'", edge=i)
    source, target = str(item.get("source")), str(item.get("target"))
    for end, name in ((source, "source"), (target, "target")):
        if end not in nodes:
            raise FlowError(f"{name} {end!r} is not a node (dangling edge)", edge=i)
    data = item.get("data") or {}
    weight = data.get("weight", item.get("weight", 1)) if isinstance(data, Mapping) else 1
    if not _positive(weight):
        raise FlowError("weight must be a positive number", edge=i)
    label = item.get("label")
    if label is not None and not isinstance(label, str):
        raise FlowError("label must be a string", edge=i)
    return Edge(source, target, label, float(weight))


def _positive(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and 0 < value <= 1_000_000
    )


_REQUIRED_LABELS = {"wait_for_reply": {"replied", "no_reply"}, "condition": {"true", "false"}}


def _check_node(flow: Flow, node: Node) -> None:
    edges = flow.out.get(node.id, [])
    labels = [e.label for e in edges]
    if node.type == "end":
        if edges:
            raise FlowError("an end node has no outgoing edges", node_id=node.id)
        return
    if node.type in _REQUIRED_LABELS:
        need = _REQUIRED_LABELS[node.type]
        if sorted(lab for lab in labels if lab) != sorted(need) or len(edges) != len(need):
            raise FlowError(
                f"needs exactly one edge labelled each of {sorted(need)}", node_id=node.id
            )
    elif node.type == "ab_split":
        if len(edges) < 2:
            raise FlowError("an ab_split needs at least two weighted edges", node_id=node.id)
    elif len(edges) != 1:
        raise FlowError(f"a {node.type} node needs exactly one outgoing edge", node_id=node.id)
    if node.type == "send_message":
        _check_send(node)
    elif node.type == "delay":
        delay_seconds(node)
    elif node.type == "wait_for_reply":
        reply_timeout_seconds(node)
    elif node.type == "condition":
        if not isinstance(node.data.get("field"), str) or not node.data["field"]:
            raise FlowError("'field' is required", node_id=node.id)
        op = node.data.get("op", "eq")
        if not isinstance(op, str) or op not in CONDITION_OPS:
            raise FlowError(f"'op' must be one of {sorted(CONDITION_OPS)}", node_id=node.id)
        value = node.data.get("value")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise FlowError("'value' must be a string, number or boolean", node_id=node.id)
        if isinstance(value, str) and len(value) > MAX_CONDITION_VALUE_CHARS:
            raise FlowError(
                f"'value' is at most {MAX_CONDITION_VALUE_CHARS} characters", node_id=node.id
            )
        if (
            node.data["field"] == "reply.category"
            and node.data.get("op", "eq") in ("eq", "ne")
            and node.data.get("value") not in REPLY_CATEGORIES
        ):
            raise FlowError(
                f"'value' for reply.category must be one of {sorted(REPLY_CATEGORIES)}",
                node_id=node.id,
            )


def _check_auto_winner(flow: Flow, node: Node) -> None:
    try:
        config = abtest.settings(node.data)
    except abtest.AutoWinnerError as err:
        raise FlowError(str(err), node_id=node.id) from None
    if config is None:
        return
    if node.type not in ("ab_split", "send_message"):
        raise FlowError("'auto_winner' applies to ab_split and send_message nodes", node_id=node.id)
    if len(flow.arms(node)) < 2:
        what = "distinct targets" if node.type == "ab_split" else "'variants'"
        raise FlowError(f"'auto_winner' needs at least two {what}", node_id=node.id)


def _check_send(node: Node) -> None:
    text = node.data.get("text")
    raw_variants = node.data.get("variants")
    if raw_variants is not None:
        if not isinstance(raw_variants, list) or not raw_variants:
            raise FlowError("'variants' must be a non-empty list", node_id=node.id)
        if len(raw_variants) > MAX_VARIANTS:
            raise FlowError(f"at most {MAX_VARIANTS} variants", node_id=node.id)
        names: set[str] = set()
        for i, v in enumerate(raw_variants):
            if not isinstance(v, Mapping) or not isinstance(v.get("text"), str):
                raise FlowError(f"variant #{i + 1} needs a 'text'", node_id=node.id)
            _check_text(node, v["text"], f"variant #{i + 1} 'text'")
            if not _positive(v.get("weight", 1)):
                raise FlowError("variant weight must be a positive number", node_id=node.id)
            name = v.get("name", f"V{i + 1}")
            if not isinstance(name, str) or not 0 < len(name) <= MAX_VARIANT_NAME_CHARS:
                raise FlowError(
                    f"variant #{i + 1} 'name' must be 1 to {MAX_VARIANT_NAME_CHARS} characters",
                    node_id=node.id,
                )
            if name in names:
                raise FlowError(f"variant name {name!r} is used twice", node_id=node.id)
            names.add(name)
    elif not isinstance(text, str):
        raise FlowError("'text' is required", node_id=node.id)
    else:
        _check_text(node, text, "'text'")


def _check_text(node: Node, text: str, what: str) -> None:
    if not text.strip():
        raise FlowError(f"{what} is required", node_id=node.id)
    try:
        templates.check(text)
    except templates.TemplateError as err:
        raise FlowError(f"{what}: {err}", node_id=node.id) from None


def check_size(raw: Any) -> None:
    """Refuse a flow document larger than MAX_FLOW_BYTES as compact JSON."""
    try:
        size = len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError):
        raise FlowError("must be a JSON document") from None
    if size > MAX_FLOW_BYTES:
        raise FlowError(f"is {size} bytes; at most {MAX_FLOW_BYTES} bytes")


def _check_reachable(flow: Flow) -> None:
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


def _check_cycles(flow: Flow) -> None:
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


def validate(raw: Any) -> Flow:
    """Everything the api checks before it stores a flow: size, then parse()."""
    check_size(raw)
    return parse(raw)


_PARSED: dict[tuple[int, int], tuple[Any, Flow]] = {}
_PARSED_MAX = 256


def parse_version(key: tuple[int, int], raw: Any) -> Flow:
    """parse() once per (campaign, version) in this process: stored versions never change.

    The document is compared too (cheaper than parsing), so two databases served by one
    process (tests, replays) never share a flow by accident.
    """
    cached = _PARSED.get(key)
    if cached is not None and cached[0] == raw:
        return cached[1]
    flow = parse(raw)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.pop(next(iter(_PARSED)))
    _PARSED[key] = (raw, flow)
    return flow
