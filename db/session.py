"""Engine and session factory; callers own the transaction boundaries."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]


def async_url(url: str) -> str:
    """Normalise any PostgreSQL URL to the psycopg 3 driver."""
    for prefix in (
        "postgresql+psycopg://",
        "postgresql+psycopg2://",
        "postgresql://",
        "postgres://",
    ):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, pool_size: int = 10, pre_ping: bool = True) -> AsyncEngine:
    """An engine on the URL's database.

    pre_ping costs a round trip per checkout; the worker turns it off because an
    activity that meets a dead connection fails, is retried, and the pool replaces it.
    """
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=20,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        # Errors (and so logged tracebacks) show statements without their values:
        # those are contact data and message texts.
        hide_parameters=True,
    )


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
