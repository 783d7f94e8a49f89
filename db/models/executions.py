"""Flow executions (one per campaign and contact) and their logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, now_column, pk_column
from db.vocabulary import ExecutionStatus

TERMINAL = (
    ExecutionStatus.COMPLETED,
    ExecutionStatus.RESPONDED,
    ExecutionStatus.FAILED,
    ExecutionStatus.CANCELLED,
    ExecutionStatus.OPTED_OUT,
    ExecutionStatus.SKIPPED,
)


class FlowExecution(Base):
    __tablename__ = "flow_executions"
    __table_args__ = (
        Index(
            "uq_flow_executions_campaign_contact",
            "campaign_id",
            "contact_id",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_flow_executions_campaign_status", "campaign_id", "status"),
        # get_campaign_statistics()'s removed executions (migration 0016).
        Index(
            "ix_flow_executions_removed",
            "campaign_id",
            postgresql_where=text("deleted_at IS NOT NULL"),
        ),
        Index("ix_flow_executions_contact", "contact_id"),
        Index(
            "ix_flow_executions_account_open",
            "telegram_account_id",
            postgresql_where=text("status IN ('pending', 'running', 'waiting', 'paused')"),
        ),
    )

    id: Mapped[int] = pk_column()
    campaign_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("campaign_flows.id"))
    contact_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contacts.id"))
    # The account this lead hears from for its whole conversation (account rotation);
    # null for leads pinned before rotation: they use the campaign's account.
    telegram_account_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("telegram_accounts.id")
    )
    # pending | running | waiting | paused | completed | responded | failed | cancelled
    # | opted_out | skipped
    status: Mapped[str] = mapped_column(String(16), server_default=ExecutionStatus.PENDING)
    generation: Mapped[int] = mapped_column(Integer, server_default="1")
    # The control op (campaign control_seq) that last reset or started this execution:
    # a retried fan-out page never resets what its own op already did.
    launch_seq: Mapped[int] = mapped_column(BigInteger, server_default="0")
    current_node_id: Mapped[str | None] = mapped_column(String(100))
    next_execution_at: Mapped[datetime | None]
    context: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    deleted_at: Mapped[datetime | None]


class FlowExecutionLog(Base):
    __tablename__ = "flow_execution_logs"
    __table_args__ = (
        Index("ix_flow_execution_logs_campaign_time", "campaign_id", "executed_at"),
        Index("ix_flow_execution_logs_execution", "execution_id", "executed_at"),
        # One message_sent row per message, whatever retries (a message is its
        # execution, generation, node and visit: its random_id).
        Index(
            "uq_flow_execution_logs_message_sent",
            "execution_id",
            "generation",
            "node_id",
            "visit",
            unique=True,
            postgresql_where=text("event_type = 'message_sent'"),
        ),
    )

    id: Mapped[int] = pk_column()
    execution_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("flow_executions.id"))
    campaign_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("campaign_flows.id"))
    node_id: Mapped[str | None] = mapped_column(String(100))
    node_type: Mapped[str | None] = mapped_column(String(32))
    # message_sent | campaign_activity | response_detected | message_read | deferred | ...
    event_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    message_text: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    executed_at: Mapped[datetime] = now_column()
    generation: Mapped[int] = mapped_column(Integer, server_default="1")
    visit: Mapped[int] = mapped_column(Integer, server_default="0")
