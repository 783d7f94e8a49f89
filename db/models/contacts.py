"""Contacts: who a campaign writes to, with template fields and tags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, now_column, pk_column


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_owner", "organization_id", "user_id"),
        # Import deduplicates each batch by these handles (db.repositories.directory).
        Index("ix_contacts_lower_username", text("lower(username)")),
        Index("ix_contacts_phone", "phone"),
        Index("ix_contacts_telegram_user_id", "telegram_user_id"),
        Index(
            "uq_contacts_scope_username",
            text("coalesce(organization_id, 0)"),
            text("(CASE WHEN organization_id IS NULL THEN user_id ELSE 0 END)"),
            text("lower(username)"),
            unique=True,
            postgresql_where=text("username IS NOT NULL AND deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = pk_column()
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    organization_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    username: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger)
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String), server_default=text("'{}'"))
    created_at: Mapped[datetime] = now_column()
    deleted_at: Mapped[datetime | None]
