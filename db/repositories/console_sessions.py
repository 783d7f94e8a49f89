"""Console sessions and passwords: the queries behind cookie sign-in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ConsoleSession, User


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


async def open_session(
    session: AsyncSession, user_id: int, token_hash: str, csrf_hash: str, expires_at: datetime
) -> ConsoleSession:
    row = ConsoleSession(
        user_id=user_id, token_hash=token_hash, csrf_hash=csrf_hash, expires_at=expires_at
    )
    session.add(row)
    await session.flush()
    return row


async def live_session(session: AsyncSession, token_hash: str) -> tuple[User, str] | None:
    """The user and CSRF digest of an unexpired, unrevoked session."""
    row = (
        await session.execute(
            select(User, ConsoleSession.csrf_hash)
            .join(ConsoleSession, ConsoleSession.user_id == User.id)
            .where(
                ConsoleSession.token_hash == token_hash,
                ConsoleSession.revoked_at.is_(None),
                ConsoleSession.expires_at > func.now(),
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def revoke_session(session: AsyncSession, token_hash: str) -> None:
    await session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.token_hash == token_hash, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def revoke_user_sessions(session: AsyncSession, user_id: int) -> None:
    """Sign out every browser of a user (after a password change)."""
    await session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
