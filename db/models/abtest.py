"""Automatic A/B decisions: one row per (campaign, node) once a winner is picked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, now_column, pk_column


class AbDecision(Base):
    __tablename__ = "ab_decisions"
    # Two workers deciding at once record one decision: the second insert does nothing.
    __table_args__ = (UniqueConstraint("campaign_id", "node_id"),)

    id: Mapped[int] = pk_column()
    campaign_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("campaign_flows.id"))
    node_id: Mapped[str] = mapped_column(String(100))
    # ab_split (the winner is a target node id) or send_message (a variant name).
    node_type: Mapped[str] = mapped_column(String(32))
    winner: Mapped[str] = mapped_column(String(100))
    metric: Mapped[str] = mapped_column(String(16))
    min_sample: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    # Each arm's numbers at the decision: [{"name", "exposed", "successes", "rate"}].
    arms: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    runner_up: Mapped[str] = mapped_column(String(100))
    z: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    # The execution whose arrival at the node found the winner (its log row).
    execution_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("flow_executions.id"))
    decided_at: Mapped[datetime] = now_column()
