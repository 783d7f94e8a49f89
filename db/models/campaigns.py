"""Campaign flows: the flow graph, its settings and lifecycle status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, now_column, pk_column
from db.vocabulary import CampaignStatus


class CampaignFlow(Base):
    __tablename__ = "campaign_flows"
    __table_args__ = (
        Index("ix_campaign_flows_org_creator", "organization_id", "created_by", "id"),
        Index("ix_campaign_flows_account", "telegram_account_id"),
    )

    id: Mapped[int] = pk_column()
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # draft | scheduled | active | paused | completed | cancelled
    status: Mapped[str] = mapped_column(String(16), server_default=CampaignStatus.DRAFT.value)
    # Why the campaign is in its status when the system, not a user, put it there
    # (an automatic pause); cleared by the next lifecycle action.
    status_reason: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
    telegram_account_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("telegram_accounts.id")
    )
    # Every account the campaign sends from, telegram_account_id first; each lead is
    # pinned to one of them (flow_executions.telegram_account_id).
    telegram_account_ids: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    scheduled_start_at: Mapped[datetime | None]
    sending_window: Mapped[dict[str, Any] | None]
    ab_test: Mapped[dict[str, Any] | None]
    response_handling: Mapped[dict[str, Any]] = mapped_column(
        server_default=text("""'{"on_reply": "stop"}'::jsonb""")
    )
    flow: Mapped[dict[str, Any]]
    flow_version: Mapped[int] = mapped_column(Integer, server_default="1")
    # Bumped by every lifecycle action; signals carry it so that the newest wins.
    control_seq: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # The newest seq the control workflow finished; behind control_seq means an
    # operation was saved but not (yet) carried out, e.g. the api died before telling.
    applied_seq: Mapped[int] = mapped_column(BigInteger, server_default="0")
    created_by: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    organization_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    deleted_at: Mapped[datetime | None]


class CampaignFlowVersion(Base):
    """Every flow a campaign has had, immutable: workflows load theirs by version."""

    __tablename__ = "campaign_flow_versions"

    campaign_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("campaign_flows.id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = now_column()
