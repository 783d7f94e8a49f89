"""The pure node semantics: every node type on every event, in milliseconds."""

from __future__ import annotations

from typing import Any

import pytest

from workflows import flowstep
from workflows.flowgraph import Flow, parse
from workflows.flowstep import (
    Advance,
    Complete,
    Event,
    Fail,
    Send,
    StepState,
    Wait,
    WaitKind,
    step,
)

FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "vip", "type": "condition", "data": {"field": "contact.first_name", "op": "exists"}},
        {"id": "cat", "type": "condition", "data": {"field": "reply.category", "value": "other"}},
        {"id": "split", "type": "ab_split"},
        {
            "id": "hello",
            "type": "send_message",
            "data": {
                "variants": [
                    {"name": "A", "text": "Hello {first_name|friend}", "weight": 1},
                    {"name": "B", "text": "Hey {first_name} ({variant})", "weight": 3},
                ]
            },
        },
        {"id": "plain", "type": "send_message", "data": {"text": "{custom.city}"}},
        {"id": "wait", "type": "wait_for_reply", "data": {"timeout": "2d"}},
        {"id": "pause", "type": "delay", "data": {"seconds": 90}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "vip"},
        {"source": "vip", "target": "split", "label": "true"},
        {"source": "vip", "target": "plain", "label": "false"},
        {"source": "split", "target": "hello", "data": {"weight": 1}},
        {"source": "split", "target": "cat", "data": {"weight": 3}},
        {"source": "cat", "target": "end", "label": "true"},
        {"source": "cat", "target": "plain", "label": "false"},
        {"source": "hello", "target": "wait"},
        {"source": "plain", "target": "pause"},
        {"source": "wait", "target": "end", "label": "replied"},
        {"source": "wait", "target": "pause", "label": "no_reply"},
        {"source": "pause", "target": "end"},
    ],
}


@pytest.fixture(scope="module")
def flow() -> Flow:
    return parse(FLOW)


def lead(flow: Flow, draw: float = 0.0, **kw: Any) -> StepState:
    fields = {"first_name": "Ada", "contact": {"first_name": "Ada", "custom": {"city": "Oslo"}}}
    base: dict[str, Any] = {"variables": fields, "context": {}, "max_sends": 5}
    base.update(kw)
    return StepState(flow, draw=lambda _node: draw, **base)


def test_start_advances_along_its_edge(flow: Flow) -> None:
    assert step(lead(flow), flow.node("start")) == Advance("vip")


def test_end_completes(flow: Flow) -> None:
    assert step(lead(flow), flow.node("end")) == Complete()


@pytest.mark.parametrize(
    ("fields", "target"), [({"contact": {"first_name": "Ada"}}, "split"), ({}, "plain")]
)
def test_condition_follows_its_label(flow: Flow, fields: dict[str, Any], target: str) -> None:
    decision = step(lead(flow, variables=fields), flow.node("vip"))
    assert decision == Advance(target, details={"result": target == "split"})


def test_condition_reads_the_last_reply(flow: Flow) -> None:
    replied = lead(flow, last_reply={"category": "other", "text": "hm"})
    assert step(replied, flow.node("cat")) == Advance("end", details={"result": True})
    assert step(lead(flow), flow.node("cat")) == Advance("plain", details={"result": False})


@pytest.mark.parametrize(("draw", "target"), [(0.1, "hello"), (0.3, "cat"), (0.99, "cat")])
def test_ab_split_draws_by_weight_and_remembers(flow: Flow, draw: float, target: str) -> None:
    decision = step(lead(flow, draw), flow.node("split"))
    assert decision == Advance(target, details={"branch": target}, context={"split:split": target})


def test_ab_split_keeps_an_earlier_branch_without_drawing(flow: Flow) -> None:
    def no_draw(_node: str) -> float:
        raise AssertionError("drew again")

    state = StepState(flow, {}, {"split:split": "hello"}, no_draw)
    assert step(state, flow.node("split")).next_id == "hello"  # type: ignore[union-attr]


def test_delay_waits_then_advances(flow: Flow) -> None:
    node = flow.node("pause")
    assert step(lead(flow), node) == Wait(WaitKind.DELAY, 90)
    assert step(lead(flow), node, Event.ELAPSED) == Advance("end")


def test_wait_for_reply_branches_on_how_it_ended(flow: Flow) -> None:
    node = flow.node("wait")
    assert step(lead(flow), node, Event.ENTER) == Wait(WaitKind.REPLY, 2 * 86400)
    assert step(lead(flow), node, Event.REPLIED) == Advance("end", details={"branch": "replied"})
    assert step(lead(flow), node, Event.ELAPSED) == Advance("pause", details={"branch": "no_reply"})


def test_send_picks_a_variant_and_renders_it(flow: Flow) -> None:
    decision = step(lead(flow, 0.9), flow.node("hello"))
    context: dict[str, object] = {"variant:hello": "B", "variant": "B"}
    assert decision == Send("Hey Ada (B)", "B", "wait", None, context)
    first = step(lead(flow, 0.1, variables={}), flow.node("hello"))
    assert isinstance(first, Send) and (first.text, first.variant) == ("Hello friend", "A")


def test_send_keeps_the_stored_variant(flow: Flow) -> None:
    state = lead(flow, 0.1, context={"variant:hello": "B"})
    assert step(state, flow.node("hello")).variant == "B"  # type: ignore[union-attr]


def test_send_before_an_end_finishes_with_it() -> None:
    doc = {
        "nodes": [
            {"id": "s", "type": "start"},
            {"id": "m", "type": "send_message", "data": {"text": "Hi"}},
            {"id": "e", "type": "end"},
        ],
        "edges": [{"source": "s", "target": "m"}, {"source": "m", "target": "e"}],
    }
    f = parse(doc)
    assert step(lead(f), f.node("m")) == Send("Hi", None, "e", "e", {})


def test_send_fails_on_an_empty_text_and_at_the_send_limit(flow: Flow) -> None:
    empty = step(lead(flow, variables={}), flow.node("plain"))
    assert isinstance(empty, Fail) and "rendered text is empty" in empty.error
    capped = step(lead(flow, sends=5), flow.node("plain"))
    assert isinstance(capped, Fail) and "limit of 5 messages" in capped.error
    assert step(lead(flow), flow.node("plain")) == Send("Oslo", None, "pause", None, {})


def test_lead_draw_is_fixed_per_lead_and_node() -> None:
    draw = flowstep.lead_draw(flowstep.choice_key(7, 42))
    assert draw("split") == flowstep.lead_draw("7:42")("split")
    assert 0 <= draw("split") < 1
    assert draw("split") != draw("hello")
    values = [flowstep.lead_draw(f"1:{i}")("n") for i in range(2000)]
    assert 0.45 < sum(v < 0.5 for v in values) / len(values) < 0.55
