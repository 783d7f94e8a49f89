"""Outbound sends (with their deterministic random_id) and inbound replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, now_column, pk_column


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index(
            "uq_messages_account_random_id",
            "account_id",
            "random_id",
            unique=True,
            postgresql_where=text("random_id IS NOT NULL"),
        ),
        Index("ix_messages_campaign", "campaign_id", "direction", "status"),
        Index("ix_messages_execution", "execution_id"),
        Index(
            "ix_messages_account_sent",
            "account_id",
            "sent_at",
            postgresql_where=text("direction = 'out' AND sent_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = pk_column()
    execution_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("flow_executions.id"))
    campaign_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("campaign_flows.id"))
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("telegram_accounts.id"))
    contact_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("contacts.id"))
    direction: Mapped[str] = mapped_column(String(3))  # out | in
    peer: Mapped[str] = mapped_column(String(64))
    random_id: Mapped[int | None] = mapped_column(BigInteger)
    node_id: Mapped[str | None] = mapped_column(String(100))
    visit: Mapped[int] = mapped_column(Integer, server_default="0")
    generation: Mapped[int] = mapped_column(Integer, server_default="1")
    text: Mapped[str] = mapped_column(Text)
    variant: Mapped[str | None] = mapped_column(String(64))
    # pending | sent | failed | received
    status: Mapped[str] = mapped_column(String(16))
    # An inbound reply's category by the scope's reply rules (db.vocabulary.ReplyCategory).
    reply_category: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = now_column()
