"""What the webhook outbox triggers add to the hot path: PostgreSQL time per
`message_sent` log row, with the trigger off, with no webhook anywhere, with a webhook
of another scope, and with a subscribed webhook (an outbox row written per log row)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select, text

from bench.common import bulk_campaign, report
from db.models import Webhook
from db.secrets import encrypt
from db.session import SessionFactory
from tests.conftest import Caller, two_step_flow

pytestmark = pytest.mark.slow
ROWS = 5000


async def _insert_logs(sessions: SessionFactory, campaign_id: int, visit: int) -> float:
    """Seconds for one statement writing a message_sent row per execution: server work
    only (no round trip per row), so the triggers' share is not lost in the noise."""
    statement = text(
        "INSERT INTO flow_execution_logs (execution_id, campaign_id, node_id, node_type, "
        "event_type, status, message_text, details, visit) SELECT id, campaign_id, 'hello', "
        "'send_message', 'message_sent', 'sent', 'Hi', '{}'::jsonb, :v "
        "FROM flow_executions WHERE campaign_id = :c"
    )
    async with sessions.begin() as session:
        started = time.perf_counter()
        await session.execute(statement, {"c": campaign_id, "v": visit})
        return time.perf_counter() - started


async def test_outbox_trigger_cost(make_user: Any, sessions: SessionFactory) -> None:
    caller: Caller = await make_user()
    other: Caller = await make_user()
    campaign_id, _ = await bulk_campaign(
        sessions, user_id=caller.user_id, count=ROWS, flow=two_step_flow()
    )
    timings: dict[str, float] = {}
    async with sessions.begin() as session:
        await session.execute(
            text("ALTER TABLE flow_execution_logs DISABLE TRIGGER webhook_log_events")
        )
    timings["trigger_off"] = await _insert_logs(sessions, campaign_id, 1)
    async with sessions.begin() as session:
        await session.execute(
            text("ALTER TABLE flow_execution_logs ENABLE TRIGGER webhook_log_events")
        )
        has_webhooks = await session.scalar(select(Webhook.id).limit(1))
    if has_webhooks is None:
        timings["no_webhook"] = await _insert_logs(sessions, campaign_id, 2)
    for label, owner, visit in (("other_scope", other, 3), ("subscribed", caller, 4)):
        async with sessions.begin() as session:
            session.add(
                Webhook(
                    user_id=owner.user_id,
                    url="http://127.0.0.1:9/unused",
                    events=["message_sent"],
                    secret_encrypted=encrypt("whsec_bench"),
                )
            )
        timings[label] = await _insert_logs(sessions, campaign_id, visit)
    report(
        "webhook_triggers",
        rows=ROWS,
        **{f"{k}_us_per_row": v / ROWS * 1e6 for k, v in timings.items()},
    )
    # The outbox got one row per log row of the subscribed phase, no more.
    async with sessions() as session:
        written = await session.scalar(
            text("SELECT count(*) FROM webhook_deliveries WHERE campaign_id = :c"),
            {"c": campaign_id},
        )
    assert written == ROWS
