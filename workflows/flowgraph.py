"""Parsing and validation of flow documents (pure, no I/O).

The model (nodes, edges, durations, variants, conditions) lives in workflows.flowmodel
and is re-exported here; what each node does is workflows.flowstep.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from db.vocabulary import NodeType
from workflows import abtest, templates
from workflows.flowmodel import (
    CONDITION_OPS,
    NODE_TYPES,
    REPLY_CATEGORIES,
    Edge,
    EdgeLabel,
    Flow,
    FlowError,
    Node,
    Variant,
    check_cycles,
    check_reachable,
    choose_variant,
    delay_seconds,
    evaluate_condition,
    lookup,
    parse_duration,
    reply_timeout_seconds,
    variants,
)
from workflows.limits import (
    MAX_CONDITION_VALUE_CHARS,
    MAX_FLOW_BYTES,
    MAX_FLOW_EDGES,
    MAX_FLOW_NODES,
    MAX_NODE_ID_CHARS,
    MAX_VARIANT_NAME_CHARS,
    MAX_VARIANTS,
)

__all__ = [
    "CONDITION_OPS",
    "NODE_TYPES",
    "REPLY_CATEGORIES",
    "Edge",
    "Flow",
    "FlowError",
    "Node",
    "Variant",
    "check_size",
    "choose_variant",
    "delay_seconds",
    "evaluate_condition",
    "lookup",
    "parse",
    "parse_duration",
    "parse_version",
    "reply_timeout_seconds",
    "validate",
    "variants",
]


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
    starts = [n.id for n in nodes.values() if n.type == NodeType.START]
    if len(starts) != 1:
        raise FlowError(f"must have exactly one start node, found {len(starts)}")
    out: dict[str, list[Edge]] = {}
    for edge in edges:
        out.setdefault(edge.source, []).append(edge)
    flow = Flow(nodes=nodes, edges=edges, start_id=starts[0], out=out)
    for node in nodes.values():
        _check_node(flow, node)
        _check_auto_winner(flow, node)
    check_reachable(flow)
    check_cycles(flow)
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


_REQUIRED_LABELS: dict[str, set[str]] = {
    NodeType.WAIT_FOR_REPLY: {EdgeLabel.REPLIED, EdgeLabel.NO_REPLY},
    NodeType.CONDITION: {EdgeLabel.TRUE, EdgeLabel.FALSE},
}


def _check_node(flow: Flow, node: Node) -> None:
    edges = flow.out.get(node.id, [])
    labels = [e.label for e in edges]
    if node.type == NodeType.END:
        if edges:
            raise FlowError("an end node has no outgoing edges", node_id=node.id)
        return
    if node.type in _REQUIRED_LABELS:
        need = _REQUIRED_LABELS[node.type]
        if sorted(lab for lab in labels if lab) != sorted(need) or len(edges) != len(need):
            raise FlowError(
                f"needs exactly one edge labelled each of {sorted(need)}", node_id=node.id
            )
    elif node.type == NodeType.AB_SPLIT:
        if len(edges) < 2:
            raise FlowError("an ab_split needs at least two weighted edges", node_id=node.id)
    elif len(edges) != 1:
        raise FlowError(f"a {node.type} node needs exactly one outgoing edge", node_id=node.id)
    if node.type == NodeType.SEND_MESSAGE:
        _check_send(node)
    elif node.type == NodeType.DELAY:
        delay_seconds(node)
    elif node.type == NodeType.WAIT_FOR_REPLY:
        reply_timeout_seconds(node)
    elif node.type == NodeType.CONDITION:
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
    if node.type not in (NodeType.AB_SPLIT, NodeType.SEND_MESSAGE):
        raise FlowError("'auto_winner' applies to ab_split and send_message nodes", node_id=node.id)
    if len(flow.arms(node)) < 2:
        what = "distinct targets" if node.type == NodeType.AB_SPLIT else "'variants'"
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

