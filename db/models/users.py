"""Users, their API tokens and console sessions (secrets stored as SHA-256 digests)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, now_column, pk_column


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = pk_column()
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # argon2 hash for console sign-in; None: the user signs in with API tokens only
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = now_column()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = pk_column()
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="default")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = now_column()
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """A signed-in browser: the cookie's and the CSRF token's digests."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = pk_column()
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = now_column()
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
