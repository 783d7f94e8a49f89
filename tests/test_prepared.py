"""Statements run on the driver connection (db.prepared) read what the session reads and
write in the session's transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from activities.executions import LEAD_COLUMNS
from activities.sending import SEND_COLUMNS
from bench.common import bulk_campaign
from db import prepared
from db.models import FlowExecution, TelegramAccount
from db.repositories import completion
from db.repositories import executions as exec_repo
from db.repositories import messages as msg_repo
from db.session import SessionFactory
from tests.conftest import Caller


class RolledBack(Exception):
    pass


FLOW = {"nodes": [{"id": "s", "type": "start"}], "edges": []}


async def test_a_prepared_lock_reads_what_the_session_reads(
    make_user: Any, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user()
    cid, account_id = await bulk_campaign(sessions, user_id=caller.user_id, count=1, flow=FLOW)
    async with sessions.begin() as session:
        execution_id = await session.scalar(
            select(FlowExecution.id).where(FlowExecution.campaign_id == cid)
        )
        await session.execute(
            update(FlowExecution)
            .where(FlowExecution.id == execution_id)
            .values(context={"variables": {"a": [1, "b"]}}, status="running")
        )
        params = {"execution_id": execution_id, "campaign_id": cid}
        for with_flow, also in ((False, SEND_COLUMNS), (True, LEAD_COLUMNS)):
            statement = exec_repo._lock_statement(with_flow, also)
            through_session = tuple((await session.execute(statement, params)).one())
            assert await prepared.fetch_one(session, statement, params) == through_session
        locked = await msg_repo.lock_account(session, account_id)
        assert locked is not None
        loaded = await session.get(TelegramAccount, account_id)
        assert loaded is not None
        for column in TelegramAccount.__table__.columns:
            assert getattr(locked[0], column.key) == getattr(loaded, column.key)


async def test_a_prepared_write_is_part_of_the_session_transaction(
    make_user: Any, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user()
    cid, _ = await bulk_campaign(sessions, user_id=caller.user_id, count=1, flow=FLOW)
    async with sessions() as session:
        execution = await session.scalar(
            select(FlowExecution).where(FlowExecution.campaign_id == cid)
        )
    assert execution is not None
    state = exec_repo.ExecutionState(
        execution.id, cid, execution.contact_id, "pending", 1, None, None, {}, None, None, None
    )
    async with sessions() as session:
        with pytest.raises(RolledBack):
            async with session.begin():
                await exec_repo.save_execution(session, state, {"current_node_id": "s"})
                assert await completion._open_left(session, cid)
                raise RolledBack
        async with session.begin():
            node = await session.scalar(
                select(FlowExecution.current_node_id).where(FlowExecution.id == execution.id)
            )
    assert node is None
