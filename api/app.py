"""App factory and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text

from activities.telegram.login import TelethonLogin
from api.console.spa import mount_console
from api.errors import install_error_handlers
from api.metrics import install_metrics
from api.routers import (
    accounts,
    campaigns,
    contacts,
    diagnosis,
    do_not_contact,
    identity,
    reply_rules,
    reports,
    telethon_login,
)
from db.session import make_engine, make_session_factory
from db.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url())
        app.state.sessions = make_session_factory(engine)
        app.state.temporal = None  # connected on first use, so the api starts without it
        yield
        await engine.dispose()

    app = FastAPI(
        title="tgflows",
        version="0.1.0",
        description="Outreach campaigns through Telegram user accounts.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.telethon_login = TelethonLogin()
    install_error_handlers(app)
    install_metrics(app)
    routers = (
        identity.router,
        telethon_login.router,
        accounts.router,
        contacts.router,
        do_not_contact.router,
        reply_rules.router,
        campaigns.router,
        reports.router,
        diagnosis.router,
    )
    for router in routers:
        app.include_router(router)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Liveness plus a database round trip."""
        async with app.state.sessions() as session:
            await session.execute(text("SELECT 1"))
        return {"status": "ok"}

    # Last: sign-in and the console's own endpoints, then the catch-all serving the SPA.
    mount_console(app)
    return app
