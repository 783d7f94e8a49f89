"""A lead's workflow takes a small flow from its plan and loads only a large one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from temporalio.client import Client

from activities.executions import INLINE_FLOW_BYTES
from tests.conftest import Caller, campaign_with_contacts, eventually, unique
from workflows.contact_runtime import FLOW_IN_PLAN
from workflows.types import contact_workflow_id

pytestmark = pytest.mark.usefixtures("worker")


def _flow(text: str) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "one", "type": "send_message", "data": {"text": text}},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"source": "start", "target": "one"}, {"source": "one", "target": "end"}],
    }


async def _markers(caller: Caller, client: Client, flow: dict[str, Any]) -> list[str]:
    """The markers of the launched lead's finished workflow: local activities, patches."""
    cid, _, _ = await campaign_with_contacts(caller, [unique()], flow=flow)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def done() -> Any:
        items = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
        return items if items[0]["status"] == "completed" else None

    items = await eventually(done)
    handle = client.get_workflow_handle(contact_workflow_id(items[0]["execution_id"], 1))
    await handle.result()
    history = await handle.fetch_history()
    found = []
    for event in history.events:
        marker = event.marker_recorded_event_attributes
        if not marker.marker_name:
            continue
        if marker.marker_name == "core_local_activity":  # a local activity: its type
            found.append(json.loads(marker.details["data"].payloads[0].data)["activity_type"])
        elif "patch-data" in marker.details:  # a patch marker: its patch
            found.append(json.loads(marker.details["patch-data"].payloads[0].data)["id"])
    return found


async def test_a_small_flow_comes_with_the_plan_and_a_large_one_is_loaded(
    make_user: Any, client: Client
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    small = await _markers(caller, client, _flow("hello"))
    assert "load_flow" not in small
    # No patch marker either: a new run records none (stored histories with one still
    # replay: tests/workflows/test_replay.py, every_node_flow_in_plan.json).
    assert FLOW_IN_PLAN not in small
    large = await _markers(caller, client, _flow("x" * INLINE_FLOW_BYTES))
    assert "load_flow" in large
