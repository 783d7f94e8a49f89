"""The log and contact search is indexed on every stack, the embedded one included."""

from __future__ import annotations

from sqlalchemy import Select, select, text
from sqlalchemy.dialects import postgresql

from db.models import Contact, FlowExecutionLog
from db.repositories.search import contact_matches, contains_pattern
from db.session import SessionFactory


async def test_the_trigram_indexes_exist(sessions: SessionFactory) -> None:
    async with sessions() as session:
        names = set(
            await session.scalars(
                text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_trgm'")
            )
        )
    assert names == {"ix_flow_execution_logs_text_trgm", "ix_contacts_name_trgm"}


async def _plan(sessions: SessionFactory, stmt: Select[tuple[int]]) -> str:
    sql = stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    async with sessions.begin() as session:
        # On a small table the planner would scan; forbid that to see what it can use.
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(await session.scalars(text(f"EXPLAIN {sql}")))


async def test_the_search_expressions_are_the_indexed_ones(sessions: SessionFactory) -> None:
    # The two halves of the log search (db/repositories/reports.py), as they are built.
    by_text = select(FlowExecutionLog.id).where(
        FlowExecutionLog.message_text.ilike(contains_pattern("offer 4321"), escape="\\")
    )
    by_contact = select(Contact.id).where(contact_matches("Gina Test"))
    assert "ix_flow_execution_logs_text_trgm" in await _plan(sessions, by_text)
    assert "ix_contacts_name_trgm" in await _plan(sessions, by_contact)
