"""Campaign actions and workers lock rows in an order that cannot deadlock."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select, text

from db.models import FlowExecution
from db.repositories import executions as exec_repo
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, eventually, unique


async def _waiting_on_locks(sessions: SessionFactory) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            or 0
        )


async def test_action_waits_for_a_worker_that_writes_logs_and_does_not_deadlock(
    make_user: Any, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user()
    cid, _, contacts = await campaign_with_contacts(caller, [unique(), unique()])
    async with sessions() as session:
        eid = await session.scalar(
            select(FlowExecution.id).where(
                FlowExecution.campaign_id == cid, FlowExecution.contact_id == contacts[0]
            )
        )
    assert eid is not None
    # What record_step and finish_execution do: lock the execution, then insert log
    # rows, whose foreign key check takes FOR KEY SHARE on the campaign row.
    async with sessions.begin() as worker_tx:
        locked = await exec_repo.lock_execution(worker_tx, eid, campaign_id=cid)
        assert locked is not None
        removal = asyncio.create_task(
            caller.delete(f"/campaign-flows/{cid}/contacts", json={"contact_ids": [contacts[0]]})
        )
        # The api now holds the campaign and waits for the execution this worker holds.
        await eventually(lambda: _waiting_on_locks(sessions))
        exec_repo.add_logs(
            worker_tx,
            locked[0],
            [{"node_id": "hello", "event_type": "campaign_activity", "status": "completed"}],
        )
        await worker_tx.flush()
    response = await removal
    assert response.status_code == 200, response.text
    assert response.json() == {"removed": 1}
