"""Statistics from campaign_counters equal get_campaign_statistics(), in real time (issue 19)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.session import SessionFactory
from db.vocabulary import ExecutionStatus
from tests.conftest import Caller, unique

STATUSES = [s.value for s in ExecutionStatus]

# 60 executions over every status, a third never started.
EXECUTIONS = """
WITH people AS (
    INSERT INTO contacts (user_id, username, first_name)
    SELECT :user, :tag || g, 'Lead' || g FROM generate_series(1, 60) g RETURNING id
)
INSERT INTO flow_executions (campaign_id, contact_id, status, started_at, current_node_id)
SELECT :campaign, id, (CAST(:statuses AS text[]))[1 + id % 10],
       CASE WHEN id % 3 <> 0 THEN now() - interval '1 hour' END,
       (ARRAY['hello', 'follow', NULL])[1 + id % 3]
FROM people
"""
# Outbound messages in every state, per node (one without a node) and variant (and none),
# and replies from a third of the leads, some before some of their messages.
MESSAGES = """
INSERT INTO messages (execution_id, campaign_id, account_id, contact_id, direction, peer,
                      random_id, node_id, visit, text, variant, status, telegram_message_id,
                      sent_at, read_at, created_at)
SELECT e.id, :campaign, :account, e.contact_id, 'out', 'p' || e.id, e.id * 10 + v,
       (ARRAY['hello', 'follow', 'nudge', NULL])[1 + (e.id + v) % 4], v,
       't', (ARRAY['A', 'B', NULL])[1 + (e.id * 7 + v) % 3],
       (ARRAY['pending', 'sent', 'sent', 'failed'])[1 + (e.id + 2 * v) % 4],
       CASE WHEN (e.id + v) % 5 <> 0 THEN e.id * 10 + v END,
       now() - make_interval(mins => 50 - 10 * v),
       CASE WHEN (e.id + v) % 3 = 0 THEN now() END, now() - make_interval(mins => 50 - 10 * v)
FROM flow_executions e, generate_series(0, 3) v
WHERE e.campaign_id = :campaign AND e.id % 7 <> 0
UNION ALL
SELECT e.id, :campaign, :account, e.contact_id, 'in', 'p' || e.id, NULL, NULL, 0, 'yes',
       NULL, 'received', e.id, NULL, NULL, now() - interval '25 minutes'
FROM flow_executions e WHERE e.campaign_id = :campaign AND e.id % 3 = 1
"""
WAITS = """
INSERT INTO flow_execution_logs (execution_id, campaign_id, node_id, node_type, event_type,
                                 status)
SELECT id, :campaign, current_node_id, 'send_message',
       (ARRAY['deferred', 'delay_started', 'waiting_for_reply'])[1 + id % 3], 'waiting'
FROM flow_executions WHERE campaign_id = :campaign AND status = 'waiting'
"""


async def both(session: AsyncSession, cid: int) -> tuple[dict[str, Any], dict[str, Any]]:
    row = (
        await session.execute(
            text("SELECT get_campaign_statistics(:c), get_campaign_statistics_live(:c)"),
            {"c": cid},
        )
    ).one()
    return row[0], row[1]


async def assert_same(sessions: SessionFactory, cid: int) -> dict[str, Any]:
    async with sessions() as session:
        today, live = await both(session, cid)
    assert sorted(live) == sorted(today)
    for field in today:
        assert live[field] == today[field], field
    return live


async def campaign(caller: Caller) -> tuple[int, int]:
    acct = await caller.ok(
        "post", "/telegram-accounts", json={"provider": "simulator", "phone": "+4401"}
    )
    flow = {
        "nodes": [{"id": "s", "type": "start"}, {"id": "e", "type": "end"}],
        "edges": [{"source": "s", "target": "e"}],
    }
    body = {"name": unique("live"), "flow": flow, "telegram_account_id": acct["id"]}
    return (await caller.ok("post", "/campaign-flows", json=body))["id"], acct["id"]


async def test_counted_statistics_equal_todays_through_every_change(
    make_user: Any, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    cid, account = await campaign(caller)
    args = {"user": caller.user_id, "campaign": cid, "account": account, "tag": unique("c")}
    empty = await assert_same(sessions, cid)
    assert empty["total_contacts"] == 0 and empty["per_node"] == {}
    steps = [
        (EXECUTIONS, {**args, "statuses": STATUSES}),
        (MESSAGES, args),
        (WAITS, args),
        # Deliveries, reads, failures and retries of messages.
        (
            "UPDATE messages SET status = 'sent', telegram_message_id = id, sent_at = now()"
            " WHERE campaign_id = :campaign AND direction = 'out' AND status = 'pending'"
            " AND id % 2 = 0",
            args,
        ),
        (
            "UPDATE messages SET read_at = now() WHERE campaign_id = :campaign"
            " AND direction = 'out' AND read_at IS NULL AND id % 3 = 1",
            args,
        ),
        (
            "UPDATE messages SET status = 'failed', telegram_message_id = NULL"
            " WHERE campaign_id = :campaign AND direction = 'out' AND id % 11 = 0",
            args,
        ),
        # Only uncounted columns: nothing moves.
        ("UPDATE messages SET text = 'edited' WHERE campaign_id = :campaign", args),
        # Status changes, starts, a node and variant renamed.
        (
            "UPDATE flow_executions SET status = 'completed', started_at = now()"
            " WHERE campaign_id = :campaign AND status IN ('running', 'pending')",
            args,
        ),
        (
            "UPDATE messages SET node_id = 'renamed', variant = 'C'"
            " WHERE campaign_id = :campaign AND direction = 'out' AND id % 13 = 0",
            args,
        ),
        # Removed contacts (soft delete), one of them back; hard-deleted messages.
        (
            "UPDATE flow_executions SET deleted_at = now()"
            " WHERE campaign_id = :campaign AND id % 4 = 0",
            args,
        ),
        (
            "UPDATE flow_executions SET deleted_at = NULL"
            " WHERE campaign_id = :campaign AND id % 8 = 0",
            args,
        ),
        (
            "DELETE FROM messages WHERE campaign_id = :campaign AND direction = 'out'"
            " AND id % 9 = 0",
            args,
        ),
        # A hard-deleted execution with its messages and logs.
        (
            "WITH gone AS (SELECT min(id) AS id FROM flow_executions"
            "  WHERE campaign_id = :campaign AND id % 7 = 1),"
            " m AS (DELETE FROM messages WHERE execution_id = (SELECT id FROM gone)),"
            " l AS (DELETE FROM flow_execution_logs WHERE execution_id = (SELECT id FROM gone))"
            " DELETE FROM flow_executions WHERE id = (SELECT id FROM gone)",
            args,
        ),
    ]
    seen = []
    for sql, params in steps:
        async with sessions.begin() as session:
            await session.execute(text(sql), params)
        seen.append(await assert_same(sessions, cid))
    full = seen[2]
    # The scenario reaches every field: many statuses, nodes, variants, replies, waits.
    assert len(full["executions_by_status"]) == len(STATUSES)
    assert {"hello", "follow", "nudge"} <= set(full["per_node"])
    assert set(full["per_variant"]) == {"A", "B"}
    assert full["contacts_responded"] > 0 and full["messages_read"] > 0
    assert full["messages_not_sent"] > 0 and full["messages_failed"] > 0
    assert any(n["replied"] for n in full["per_node"].values())
    assert any(n["waiting"] for n in full["per_node"].values())
    assert seen[6] == seen[5]  # the edit counted nothing
    totals = [s["total_contacts"] for s in seen[8:]]
    assert totals[1] < totals[0] and totals[1] < totals[2] and totals[4] == totals[3] - 1


async def test_statistics_change_at_once(make_user: Any, sessions: SessionFactory) -> None:
    """No snapshot: a delivery, a read and a status change show in the next answer."""
    caller: Caller = await make_user(org=unique("org"))
    cid, account = await campaign(caller)
    args = {"user": caller.user_id, "campaign": cid, "account": account, "tag": unique("c")}
    async with sessions.begin() as session:
        await session.execute(text(EXECUTIONS), {**args, "statuses": STATUSES})
        await session.execute(text(MESSAGES), args)

    async def get() -> dict[str, Any]:
        found = await caller.ok("get", f"/campaign-flows/{cid}/statistics")
        assert found["cached"] is False
        return dict(found["statistics"])

    before = await get()
    async with sessions.begin() as session:
        await session.execute(
            text(
                "UPDATE messages SET status = 'sent', telegram_message_id = id, read_at = now()"
                " WHERE id = (SELECT min(id) FROM messages WHERE campaign_id = :campaign"
                " AND status = 'pending' AND read_at IS NULL AND node_id = 'hello')"
            ),
            args,
        )
        await session.execute(
            text(
                "UPDATE flow_executions SET status = 'failed' WHERE id = (SELECT min(id)"
                " FROM flow_executions WHERE campaign_id = :campaign AND status = 'running')"
            ),
            args,
        )
    after = await get()
    assert after["messages_sent"] == before["messages_sent"] + 1
    assert after["messages_delivered"] == before["messages_delivered"] + 1
    assert after["messages_read"] == before["messages_read"] + 1
    hello = (before["per_node"]["hello"], after["per_node"]["hello"])
    assert hello[1]["sent"] == hello[0]["sent"] + 1
    assert hello[1]["not_sent"] <= hello[0]["not_sent"]
    assert after["contacts_failed"] == before["contacts_failed"] + 1
    assert after["contacts_active"] == before["contacts_active"] - 1
