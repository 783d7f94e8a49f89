"""The do-not-contact list and the reply rules that feed it, per scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, now_column, pk_column


class DoNotContact(Base):
    __tablename__ = "do_not_contact"
    __table_args__ = (
        # One entry per handle per scope (organization, or a user's personal space).
        Index(
            "uq_do_not_contact_scope_handle",
            text("coalesce(organization_id, 0)"),
            text("(CASE WHEN organization_id IS NULL THEN user_id ELSE 0 END)"),
            "kind",
            "value",
            unique=True,
        ),
        Index("ix_do_not_contact_kind_value", "kind", "value"),
    )

    id: Mapped[int] = pk_column()
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    organization_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    # username (lower case, no @) | phone | telegram_user_id
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))
    # manual | reply (the lead's own reply asked to stop)
    source: Mapped[str] = mapped_column(String(16), server_default="manual")
    created_at: Mapped[datetime] = now_column()


class ReplyRules(Base):
    """A scope's own reply classification rules; a scope without a row uses the defaults."""

    __tablename__ = "reply_rules"
    __table_args__ = (
        Index(
            "uq_reply_rules_scope",
            text("coalesce(organization_id, 0)"),
            text("(CASE WHEN organization_id IS NULL THEN user_id ELSE 0 END)"),
            unique=True,
        ),
    )

    id: Mapped[int] = pk_column()
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    organization_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    # [{"category", "keywords": [...], "patterns": [...]}], first match wins
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = now_column()
