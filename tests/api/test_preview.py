"""The dry run: POST /campaign-flows/{id}/preview shows what a real run then sends."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Caller, campaign_with_contacts, eventually, unique

# Every choice the real run makes: a condition on a contact field, a weighted split,
# a send with variants, a delay, a template fallback.
CHOICES_FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "named", "type": "condition", "data": {"field": "first_name", "op": "exists"}},
        {"id": "split", "type": "ab_split"},
        {
            "id": "hello",
            "type": "send_message",
            "data": {
                "variants": [
                    {"name": "A", "text": "Hello {first_name} ({variant})"},
                    {"name": "B", "text": "Hey {first_name} ({variant})"},
                    {"name": "C", "text": "Hi {first_name} ({variant})"},
                ]
            },
        },
        {"id": "short", "type": "send_message", "data": {"text": "Short hi"}},
        {"id": "pause", "type": "delay", "data": {"seconds": 1}},
        {"id": "city", "type": "send_message", "data": {"text": "In {custom.city|your city}?"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "named"},
        {"source": "named", "target": "split", "label": "true"},
        {"source": "named", "target": "short", "label": "false"},
        {"source": "split", "target": "hello", "data": {"weight": 1}},
        {"source": "split", "target": "short", "data": {"weight": 1}},
        {"source": "hello", "target": "pause"},
        {"source": "short", "target": "pause"},
        {"source": "pause", "target": "city"},
        {"source": "city", "target": "end"},
    ],
}


async def received(sim: httpx.AsyncClient, peer: str) -> list[str]:
    return [m["text"] for m in (await sim.get(f"/peers/{peer}/messages")).json()["items"]]


@pytest.mark.usefixtures("worker")
async def test_preview_equals_what_the_real_run_sends(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peers = [unique() for _ in range(6)]
    cid, _, contact_ids = await campaign_with_contacts(caller, peers, flow=CHOICES_FLOW)
    previews = {}
    for peer, contact_id in zip(peers, contact_ids, strict=True):
        shown = await caller.ok(
            "post", f"/campaign-flows/{cid}/preview", json={"contact_id": contact_id}
        )
        assert shown["outcome"] == "completed", shown
        previews[peer] = shown
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    for peer, shown in previews.items():
        texts = [s["text"] for s in shown["steps"] if s["node_type"] == "send_message"]
        assert texts[-1] == "In your city?"
        # What the real run sends, in order: the same path, variants and fallbacks.
        got = await eventually(functools.partial(_all, sim, peer, len(texts)), timeout=40)
        assert got == texts
    # The delay shows as a second between the first send and the last.
    one = next(iter(previews.values()))
    sends = [datetime.fromisoformat(s["at"]) for s in one["steps"] if s["text"]]
    assert (sends[-1] - sends[0]).total_seconds() >= 1


async def _all(sim: httpx.AsyncClient, peer: str, n: int) -> list[str] | None:
    texts = await received(sim, peer)
    return texts if len(texts) >= n else None


REPLY_FLOW: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "hello", "type": "send_message", "data": {"text": "Hello {first_name|there}"}},
        {"id": "wait", "type": "wait_for_reply", "data": {"timeout": "2d"}},
        {
            "id": "keen",
            "type": "condition",
            "data": {"field": "reply.category", "op": "eq", "value": "interested"},
        },
        {"id": "more", "type": "send_message", "data": {"text": "Great, here is more"}},
        {"id": "bye", "type": "send_message", "data": {"text": "Thanks anyway"}},
        {"id": "nudge", "type": "send_message", "data": {"text": "Any thoughts?"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "hello"},
        {"source": "hello", "target": "wait"},
        {"source": "wait", "target": "keen", "label": "replied"},
        {"source": "wait", "target": "nudge", "label": "no_reply"},
        {"source": "keen", "target": "more", "label": "true"},
        {"source": "keen", "target": "bye", "label": "false"},
        {"source": "more", "target": "end"},
        {"source": "bye", "target": "end"},
        {"source": "nudge", "target": "end"},
    ],
}


async def test_simulated_replies_window_and_bad_input(make_user: Any) -> None:
    caller: Caller = await make_user(org=unique("org"))
    window = {"start": "09:00", "end": "17:00", "days": [0, 1, 2, 3, 4]}
    cid, _, _ = await campaign_with_contacts(
        caller, [], flow=REPLY_FLOW, sending_window=window, timezone="UTC"
    )
    url = f"/campaign-flows/{cid}/preview"
    saturday_night = "2030-01-05T23:00:00+00:00"
    silent = await caller.ok("post", url, json={"contact": {}, "start_at": saturday_night})
    sends = [s for s in silent["steps"] if s["node_type"] == "send_message"]
    assert [s["text"] for s in sends] == ["Hello there", "Any thoughts?"]
    # Held to Monday 09:00; the wait of two days then ends Wednesday 09:00.
    assert sends[0]["at"].startswith("2030-01-07T09:00:00")
    assert any("sending window" in h for h in sends[0]["held"])
    assert sends[1]["at"].startswith("2030-01-09T09:00:00")
    keen = await caller.ok(
        "post",
        url,
        json={
            "contact": {"first_name": "Ada"},
            "start_at": "2030-01-07T10:00:00Z",
            "replies": [
                {"after_node": "hello", "text": "Interested, tell me more", "after_seconds": 60}
            ],
        },
    )
    assert [s["text"] for s in keen["steps"] if s["text"]] == ["Hello Ada", "Great, here is more"]
    wait = next(s for s in keen["steps"] if s["node_id"] == "wait")
    assert (wait["label"], wait["reply"]["category"]) == ("replied", "interested")
    assert wait["waited_until"].startswith("2030-01-07T10:01:00")
    stop = await caller.ok(
        "post",
        url,
        json={
            "contact": {"first_name": "Ada"},
            "start_at": "2030-01-07T10:00:00Z",
            "replies": [{"after_node": "hello", "text": "stop", "after_seconds": 5}],
        },
    )
    assert [s["node_id"] for s in stop["steps"]][-2:] == ["keen", "bye"]
    assert stop["outcome"] == "opted_out"
    for body, field in [
        ({}, "body"),
        ({"contact": {}, "contact_id": 1}, "body"),
        ({"contact": {}, "replies": [{"after_node": "nope", "text": "x"}]}, "replies.0.after_node"),
        ({"contact": {}, "replies": [{"after_node": "hello", "text": ""}]}, "replies.0.text"),
        ({"contact_id": 2**62}, "contact_id"),
    ]:
        resp = await caller.post(url, json=body)
        assert resp.status_code in (404, 422), (body, resp.text)
        assert resp.json().get("field", "body") == field, (body, resp.json())
    stranger: Caller = await make_user()
    assert (await stranger.post(url, json={"contact": {}})).status_code == 404
