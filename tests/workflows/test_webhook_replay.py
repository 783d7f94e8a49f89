"""Replaying a stored history guards the webhook stream workflow against
non-determinism: pokes, deliveries with retries, one out of retries given up."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from tests.conftest import TASK_QUEUE, Caller, campaign_with_contacts, eventually, unique
from tests.webhooks.receiver import receiving
from workflows.webhook_types import StreamInput, stream_workflow_id, webhook_task_queue
from workflows.webhooks import WebhookStreamWorkflow

# Recorded by test_record_webhook_history: the launch's event refused until its retries
# run out (given up), then a message_sent and the completion delivered.
HISTORY = Path(__file__).parent / "histories" / "webhook_stream.json"


async def test_stored_webhook_history_replays() -> None:
    history = WorkflowHistory.from_json("webhook-replay", json.loads(HISTORY.read_text()))
    await Replayer(workflows=[WebhookStreamWorkflow]).replay_workflow(history)


@pytest.mark.skipif(
    not os.environ.get("TGFLOWS_RECORD_HISTORY"),
    reason="set TGFLOWS_RECORD_HISTORY=1 to record the history again",
)
@pytest.mark.usefixtures("worker")
async def test_record_webhook_history(make_user: Any, client: Client) -> None:
    caller: Caller = await make_user()
    async with receiving() as receiver:
        url = receiver.url("replay")
        created = await caller.ok(
            "post",
            "/webhooks",
            json={"url": url, "events": ["campaign_status_changed", "message_sent"]},
        )
        endpoint = receiver.endpoints["replay"]
        endpoint.secret = created["secret"]
        endpoint.reject = lambda e: e["data"].get("status") == "active"
        cid, _, _ = await campaign_with_contacts(caller, [unique()])
        handle = await client.start_workflow(
            WebhookStreamWorkflow.run,
            StreamInput(created["id"], cid, initial_seconds=0.2, max_seconds=0.5, retry_seconds=2),
            id=stream_workflow_id(created["id"], cid),
            task_queue=webhook_task_queue(TASK_QUEUE),
        )
        await caller.ok("post", f"/campaign-flows/{cid}/launch")

        async def done() -> bool:
            return len(endpoint.accepted) == 2

        await eventually(done, timeout=30)
        assert await handle.result() == 3  # ends after a minute without events
    history = await handle.fetch_history()
    HISTORY.write_text(json.dumps(history.to_json_dict(), indent=1))
