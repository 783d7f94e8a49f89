"""Automatic A/B winners: each arm's numbers, and the one recorded decision per node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AbDecision, FlowExecutionLog
from db.vocabulary import LogEvent, LogStatus, NodeType


@dataclass(frozen=True)
class ArmCounts:
    exposed: int
    replied: int
    read: int


# A send's variant: leads whose message from this node was delivered (current launch).
_SEND_EXPOSED = """
    SELECT m.execution_id, m.variant AS arm, min(m.sent_at) AS at,
           bool_or(m.read_at IS NOT NULL) AS read
    FROM messages m
    JOIN flow_executions e ON e.id = m.execution_id AND e.generation = m.generation
    WHERE m.campaign_id = :campaign_id AND m.node_id = :node_id AND m.direction = 'out'
      AND m.status = 'sent' AND m.telegram_message_id IS NOT NULL AND m.variant IS NOT NULL
      AND e.deleted_at IS NULL
    GROUP BY m.execution_id, m.variant
"""
# An ab_split's branch: leads that took it (its log row) and were then delivered a message.
_SPLIT_EXPOSED = """
    SELECT t.execution_id, t.arm, min(m.sent_at) AS at, bool_or(m.read_at IS NOT NULL) AS read
    FROM (
        SELECT DISTINCT ON (l.execution_id) l.execution_id, l.details->>'branch' AS arm,
               l.executed_at AS at
        FROM flow_execution_logs l
        JOIN flow_executions e ON e.id = l.execution_id AND e.generation = l.generation
        WHERE l.campaign_id = :campaign_id AND l.node_id = :node_id
          AND l.event_type = 'campaign_activity' AND e.deleted_at IS NULL
        ORDER BY l.execution_id, l.executed_at
    ) t
    JOIN messages m ON m.execution_id = t.execution_id
    WHERE m.direction = 'out' AND m.status = 'sent' AND m.telegram_message_id IS NOT NULL
      AND m.sent_at >= t.at
    GROUP BY t.execution_id, t.arm
"""
# Replied: the lead wrote back after its first message of the arm (its latest reply is
# after it). One pass over the campaign's replies, hash-joined: not a probe per lead.
_COUNTS = """
    WITH exposed AS ({exposed}),
    replies AS (
        SELECT execution_id, max(created_at) AS last
        FROM messages
        WHERE campaign_id = :campaign_id AND direction = 'in' AND execution_id IS NOT NULL
        GROUP BY execution_id
    )
    SELECT x.arm, count(*) AS exposed,
           count(*) FILTER (WHERE r.last >= x.at) AS replied,
           count(*) FILTER (WHERE x.read) AS read
    FROM exposed x LEFT JOIN replies r ON r.execution_id = x.execution_id
    GROUP BY x.arm
"""
_QUERIES = {
    NodeType.SEND_MESSAGE: text(_COUNTS.format(exposed=_SEND_EXPOSED)),
    NodeType.AB_SPLIT: text(_COUNTS.format(exposed=_SPLIT_EXPOSED)),
}


async def arm_counts(
    session: AsyncSession, campaign_id: int, node_id: str, node_type: str
) -> dict[str, ArmCounts]:
    """Per arm (variant name or split target): leads exposed, those who replied, read."""
    rows = await session.execute(
        _QUERIES[NodeType(node_type)], {"campaign_id": campaign_id, "node_id": node_id}
    )
    return {
        str(arm): ArmCounts(int(exposed), int(replied), int(read))
        for arm, exposed, replied, read in rows
        if arm is not None
    }


async def decision(session: AsyncSession, campaign_id: int, node_id: str) -> AbDecision | None:
    return await session.scalar(
        select(AbDecision).where(
            AbDecision.campaign_id == campaign_id, AbDecision.node_id == node_id
        )
    )


async def decisions(session: AsyncSession, campaign_id: int) -> list[AbDecision]:
    """Every decision of a campaign, in the order they were made."""
    rows = await session.scalars(
        select(AbDecision)
        .where(AbDecision.campaign_id == campaign_id)
        .order_by(AbDecision.decided_at, AbDecision.id)
    )
    return list(rows)


async def record_decision(
    session: AsyncSession,
    *,
    values: dict[str, Any],
    generation: int,
    summary: str,
) -> str:
    """Record the decision and its log row unless one exists; the winner that stands.

    The unique (campaign, node) makes a concurrent second decision a no-op: its caller
    gets the first one's winner, and only the first writes the log row.
    """
    inserted = await session.scalar(
        insert(AbDecision)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["campaign_id", "node_id"])
        .returning(AbDecision.winner)
    )
    if inserted is not None:
        session.add(
            FlowExecutionLog(
                execution_id=values["execution_id"],
                campaign_id=values["campaign_id"],
                node_id=values["node_id"],
                node_type=values["node_type"],
                event_type=LogEvent.AB_WINNER,
                status=LogStatus.COMPLETED,
                message_text=summary,
                details={
                    k: values[k]
                    for k in (
                        "winner",
                        "metric",
                        "min_sample",
                        "confidence",
                        "arms",
                        "runner_up",
                        "z",
                        "p_value",
                        "threshold",
                    )
                },
                generation=generation,
            )
        )
        return str(inserted)
    stands = await decision(session, values["campaign_id"], values["node_id"])
    assert stands is not None
    return stands.winner
