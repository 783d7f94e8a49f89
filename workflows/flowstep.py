"""What each node does: the pure `step(state, node, event) -> Decision`.

The contact workflow carries the decisions out (timers, activities, log rows); the
api's dry run (api/campaigns/preview.py) plays them on a simulated clock. Both walk a
lead through a flow with this one function, so a preview takes the path, renders the
texts and picks the variants the real run would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from db.vocabulary import NodeType
from workflows import templates
from workflows.flowmodel import (
    EdgeLabel,
    Flow,
    Node,
    choose_variant,
    delay_seconds,
    evaluate_condition,
    reply_timeout_seconds,
    variants,
)

REPLIED, NO_REPLY = EdgeLabel.REPLIED, EdgeLabel.NO_REPLY
TRUE, FALSE = EdgeLabel.TRUE, EdgeLabel.FALSE


def variant_key(node_id: str) -> str:
    """The context key that remembers a send's chosen variant, so a revisit keeps it."""
    return f"variant:{node_id}"


def split_key(node_id: str) -> str:
    """The context key that remembers an ab_split's chosen branch."""
    return f"split:{node_id}"


class Event(StrEnum):
    """What happened at a node: arriving, or how its wait ended."""

    ENTER = "enter"
    ELAPSED = "elapsed"  # a delay's timer, or a wait_for_reply's timeout
    REPLIED = "replied"  # a reply ended a wait_for_reply


class WaitKind(StrEnum):
    DELAY = "delay_started"
    REPLY = "waiting_for_reply"


@dataclass
class StepState:
    """What a node's semantics read: the flow, the lead and the execution so far.

    `draw(node_id)` is a uniform number in [0, 1) for a choice at that node: the
    workflow's deterministic random, or `lead_draw` of the lead (see choice_key).
    """

    flow: Flow
    variables: Mapping[str, object]
    context: Mapping[str, object]
    draw: Callable[[str], float]
    last_reply: Mapping[str, object] = field(default_factory=dict)
    sends: int = 0
    max_sends: int = 0


@dataclass(frozen=True)
class Advance:
    """Log the node completed (with details) and go on to `next_id`; None ends the run."""

    next_id: str | None
    details: dict[str, object] = field(default_factory=dict)
    context: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Complete:
    """An end node: log it completed and finish the execution."""


@dataclass(frozen=True)
class Wait:
    """Sleep `seconds` (from now, unless the execution already has a deadline), then
    step again with ELAPSED, or REPLIED if a reply ends a REPLY wait."""

    kind: WaitKind
    seconds: int


@dataclass(frozen=True)
class Send:
    """Send `text`; after it is sent go on to `next_id` (`finish_id`: the end that follows)."""

    text: str
    variant: str | None
    next_id: str
    finish_id: str | None
    context: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Fail:
    """The lead cannot go on: the execution fails with `error`."""

    error: str
    context: dict[str, object] = field(default_factory=dict)


Decision = Advance | Complete | Wait | Send | Fail


def step(state: StepState, node: Node, event: Event = Event.ENTER) -> Decision:
    """What `node` does on `event`; pure, so replays and previews agree with the run."""
    if node.type == NodeType.END:
        return Complete()
    if node.type == NodeType.START:
        return Advance(state.flow.next_node(node.id))
    if node.type == NodeType.CONDITION:
        scope = {**state.variables, "context": state.context, "reply": state.last_reply}
        result = evaluate_condition(node, scope)
        label = TRUE if result else FALSE
        return Advance(state.flow.next_node(node.id, label), details={"result": result})
    if node.type == NodeType.AB_SPLIT:
        target = choose_branch(state, node)
        return Advance(target, details={"branch": target}, context={split_key(node.id): target})
    if node.type in (NodeType.DELAY, NodeType.WAIT_FOR_REPLY):
        return _waiting(state, node, event)
    return _send(state, node)


def ab_choice_key(node: Node) -> str | None:
    """Where a lead's A/B choice at this node is kept (its context), if it makes one."""
    if node.type == NodeType.AB_SPLIT:
        return split_key(node.id)
    if node.type == NodeType.SEND_MESSAGE:
        return variant_key(node.id)
    return None


def take_winner(flow: Flow, node: Node, context: dict[str, object], winner: str | None) -> None:
    """A lead with no arm yet at an A/B node takes the decided winner as its choice, which
    step() then keeps; a lead already on an arm stays on it."""
    key = ab_choice_key(node)
    if key is None or winner is None or context.get(key) in flow.arms(node):
        return
    if winner in flow.arms(node):
        context[key] = winner


def choose_branch(state: StepState, node: Node) -> str:
    """The ab_split branch of this lead: the one it took before, else a weighted draw."""
    target = state.context.get(split_key(node.id))
    if isinstance(target, str) and target in state.flow.nodes:
        return target
    return state.flow.choose_weighted(node.id, state.draw(node.id))


def _waiting(state: StepState, node: Node, event: Event) -> Decision:
    is_delay = node.type == NodeType.DELAY
    if event is Event.ENTER:
        if is_delay:
            return Wait(WaitKind.DELAY, delay_seconds(node))
        return Wait(WaitKind.REPLY, reply_timeout_seconds(node))
    if is_delay:
        return Advance(state.flow.next_node(node.id))
    label = REPLIED if event is Event.REPLIED else NO_REPLY
    return Advance(state.flow.next_node(node.id, label), details={"branch": label})


def _send(state: StepState, node: Node) -> Decision:
    stored = state.context.get(variant_key(node.id))
    chosen = next((v for v in variants(node) if v.name == stored), None) or choose_variant(
        node, state.draw(node.id)
    )
    context: dict[str, object] = {}
    if chosen is not None:
        context = {variant_key(node.id): chosen.name, "variant": chosen.name}
    template = chosen.text if chosen else str(node.data.get("text", ""))
    try:
        text = templates.render(template, state.variables, {**state.context, **context})
    except templates.TemplateError as err:
        return Fail(f"Node '{node.id}': {err}", context)
    if not text.strip():
        return Fail(f"Node '{node.id}': the rendered text is empty", context)
    if state.sends >= state.max_sends:
        return Fail(
            f"Reached the limit of {state.max_sends} messages per execution "
            "(TGFLOWS_MAX_SENDS_PER_EXECUTION)",
            context,
        )
    next_id = state.flow.next_node(node.id)
    assert next_id is not None  # flowgraph: a send has exactly one outgoing edge
    finish_id = next_id if state.flow.node(next_id).type == NodeType.END else None
    return Send(text, chosen.name if chosen else None, next_id, finish_id, context)


def lead_draw(choice_key: str) -> Callable[[str], float]:
    """Uniform draws in [0, 1) fixed by the lead and node: a lead's variant and branch
    are the same in every run of it and in its preview."""

    def draw(node_id: str) -> float:
        digest = hashlib.sha256(f"{choice_key}\x00{node_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    return draw


def choice_key(campaign_id: int, contact_id: int) -> str:
    """The key of a lead's choices in one campaign."""
    return f"{campaign_id}:{contact_id}"
