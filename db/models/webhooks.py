"""Outbound webhooks, the outbox of their events and each delivery attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, now_column, pk_column


class Webhook(Base):
    """A receiver of the scope's events (organization, or a user's personal space)."""

    __tablename__ = "webhooks"
    __table_args__ = (Index("ix_webhooks_scope", "organization_id", "user_id"),)

    id: Mapped[int] = pk_column()
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    organization_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(500))
    # WebhookEvent values this receiver subscribes to.
    events: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    # The signing secret, Fernet-encrypted with TGFLOWS_SECRET_KEY (db.secrets).
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = now_column()
    deleted_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """One event for one webhook: the outbox row, written by the fact's own transaction.

    Rows of a stream (webhook, campaign; account events have no campaign) are delivered
    in id order, one at a time.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(
            "ix_webhook_deliveries_pending_stream",
            "webhook_id",
            text("coalesce(campaign_id, 0)"),
            "id",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
    )

    id: Mapped[int] = pk_column()
    webhook_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("webhooks.id"))
    campaign_id: Mapped[int | None] = mapped_column(BigInteger)
    # The receiver's dedup key: the same on every attempt and redelivery.
    event_id: Mapped[str] = mapped_column(UUID(as_uuid=False), unique=True)
    event_type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    # pending | delivered | failed (DeliveryStatus)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    created_at: Mapped[datetime] = now_column()
    delivered_at: Mapped[datetime | None]
    # Set by a redeliver request: the attempts after it are marked manual.
    redelivered_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery, with what the receiver answered."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[int] = pk_column()
    delivery_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("webhook_deliveries.id"))
    attempted_at: Mapped[datetime] = now_column()
    duration_ms: Mapped[int] = mapped_column(Integer)
    response_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    # Started by a redeliver request rather than the first delivery's retries.
    manual: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
