"""Telegram accounts: provider, encrypted credentials, health, limits, lease."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, now_column, pk_column
from db.vocabulary import AccountStatus


class TelegramAccount(Base):
    __tablename__ = "telegram_accounts"
    __table_args__ = (Index("ix_telegram_accounts_owner", "organization_id", "user_id"),)

    id: Mapped[int] = pk_column()
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    organization_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("organizations.id"))
    provider: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str | None] = mapped_column(String(200))
    # connected | flood_wait | peer_flood | banned | unauthorized | pending_login
    status: Mapped[str] = mapped_column(String(16), server_default=AccountStatus.CONNECTED.value)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    flood_wait_until: Mapped[datetime | None]
    cooldown_until: Mapped[datetime | None]
    api_id: Mapped[int | None] = mapped_column(Integer)
    api_hash_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    session_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # phone_code_hash between "send code" and "sign in", encrypted.
    login_state_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    min_interval_seconds: Mapped[int] = mapped_column(Integer, server_default="0")
    jitter_seconds: Mapped[int] = mapped_column(Integer, server_default="0")
    max_per_hour: Mapped[int | None] = mapped_column(Integer)
    max_per_day: Mapped[int | None] = mapped_column(Integer)
    next_send_at: Mapped[datetime | None]
    last_sent_at: Mapped[datetime | None]
    # The account's first message ever: its warm-up days count from here.
    first_sent_at: Mapped[datetime | None]
    # Cap on new conversations per UTC day, ramping from start by increase a day up to
    # max (workflows.warmup); no start: no cap.
    warmup_start_per_day: Mapped[int | None] = mapped_column(Integer)
    warmup_increase_per_day: Mapped[int | None] = mapped_column(Integer)
    warmup_max_per_day: Mapped[int | None] = mapped_column(Integer)
    updates_offset: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    # Telethon's update state (pts, qts, date, seq) after the last handled update: the
    # next listener fetches the difference from here, so no reply is lost in between.
    update_state: Mapped[dict[str, Any] | None]
    # Set by the lease holder's listener once it has fetched what arrived while no
    # listener ran; sends of the account wait for it (see docs/decisions.md).
    updates_caught_up: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = now_column()
    deleted_at: Mapped[datetime | None]


class TelegramPeer(Base):
    """A contact as one Telethon account can address it: Telegram's access hash is per
    account, so a contact resolved by phone is resolved once per sending account."""

    __tablename__ = "telegram_peers"

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("telegram_accounts.id"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contacts.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    access_hash: Mapped[int] = mapped_column(BigInteger)
    resolved_at: Mapped[datetime] = now_column()


class AccountConversation(Base):
    """A lead the account has opened a conversation with, and when: the first message
    it claimed for that contact counts against its new-conversation cap that day."""

    __tablename__ = "account_conversations"
    __table_args__ = (Index("ix_account_conversations_started", "account_id", "started_at"),)

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("telegram_accounts.id"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contacts.id"), primary_key=True)
    started_at: Mapped[datetime] = now_column()
