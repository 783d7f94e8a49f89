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


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 20,
    pre_ping: bool = True,
    statement_timeout: float | None = None,
    application_name: str | None = None,
) -> AsyncEngine:
    """An engine on the URL's database.

    pre_ping costs a round trip per checkout; the worker turns it off because an
    activity that meets a dead connection fails, is retried, and the pool replaces it.
    statement_timeout (seconds) cancels any longer statement on its connections;
    application_name names them in pg_stat_activity.
    """
    options = []
    if statement_timeout is not None:
        options.append(f"-c statement_timeout={int(statement_timeout * 1000)}")
    connect_args: dict[str, str] = {}
    if options:
        connect_args["options"] = " ".join(options)
    if application_name:
        connect_args["application_name"] = application_name
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        connect_args=connect_args,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        # Errors (and so logged tracebacks) show statements without their values:
        # those are contact data and message texts.
        hide_parameters=True,
    )


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
