"""get_campaign_statistics() finds a campaign's removed executions on an index (0016)."""

from __future__ import annotations

from sqlalchemy import text

from db.session import SessionFactory


async def test_the_removed_executions_are_found_on_their_index(sessions: SessionFactory) -> None:
    async with sessions.begin() as session:
        # Small tables: forbid the scan to see which index the planner can use.
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        await session.execute(text("SET LOCAL enable_bitmapscan = off"))
        # The statistics' `removed` CTE (migration 0008), as it is written there.
        plan = "\n".join(
            await session.scalars(
                text(
                    "EXPLAIN SELECT id FROM flow_executions"
                    " WHERE campaign_id = 1 AND deleted_at IS NOT NULL"
                )
            )
        )
    assert "ix_flow_executions_removed" in plan
