"""App factory and lifespan."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import health
from api.campaigns import contact_routes as campaign_contacts
from api.campaigns import preview_routes as preview
from api.campaigns import routes as campaigns
from api.console.spa import mount_console
from api.cpubudget import CpuBudget
from api.directory import accounts, contacts, do_not_contact, reply_rules, telethon_login
from api.docs import install_docs
from api.errors import COMMON_RESPONSES, install_crash_handler, install_error_handlers
from api.identity import routes as identity
from api.metrics import install_metrics
from api.middleware import DoorMiddleware
from api.ratelimit import FailureLimiter
from api.readgate import ReadGate
from api.reports import diagnosis_routes as diagnosis
from api.reports import routes as reports
from api.token_cache import TokenCache
from api.webhooks import routes as webhooks
from db.backend_priority import lower_backend_priority
from db.session import make_engine, make_session_factory
from db.settings import Settings, get_settings
from workflows.limits import AUTH_FAILURES_PER_MINUTE
from workflows.telegram_login import NoTelegramLogin, TelegramLogin


def create_app(
    settings: Settings | None = None, *, telegram_login: TelegramLogin | None = None
) -> FastAPI:
    """The api. `telegram_login` is the sign-in boundary (activities.telegram.login's
    TelethonLogin, given by the wiring); without one, sign-in steps answer 503."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.api_nice:
            # Served by `tgflows api` (the lifespan runs in its own process): on a host
            # it shares with the worker, the sends get the CPU before the readers.
            os.nice(settings.api_nice)
        if settings.api_read_cpu:
            # The process's CPU is the api's alone only when it is served on its own.
            app.state.read_budget = CpuBudget(settings.api_read_cpu, settings.api_read_cpu_burst)
        # The api's own pool, sized to its read gate plus room for writes, apart from
        # the worker's (another process); every statement bounded in time.
        engine = make_engine(
            settings.resolved_database_url(),
            pool_size=settings.api_read_concurrency + 4,
            max_overflow=10,
            statement_timeout=settings.api_statement_timeout_seconds,
            application_name="tgflows-api",
        )
        if settings.api_nice:
            lower_backend_priority(engine, settings.api_nice)
        app.state.sessions = make_session_factory(engine)
        app.state.temporal = None  # connected on first use, so the api starts without it
        yield
        await engine.dispose()

    app = FastAPI(
        title="tgflows",
        version="0.1.0",
        description="Outreach campaigns through Telegram user accounts.",
        lifespan=lifespan,
        # Served from local files by api.docs (no CDN).
        docs_url=None,
        redoc_url=None,
        # Every operation documents the errors any route may answer, in one shape.
        responses=COMMON_RESPONSES,
    )
    app.state.settings = settings
    app.state.telethon_login = telegram_login or NoTelegramLogin()
    app.state.auth_failures = FailureLimiter(AUTH_FAILURES_PER_MINUTE)
    app.state.token_cache = TokenCache(settings.api_token_cache_seconds)
    app.state.read_budget = None  # set by the lifespan
    install_error_handlers(app)
    install_crash_handler(app)
    install_docs(app)
    install_metrics(app)
    # Door outermost: a read refused by the gate still gets the security headers.
    app.add_middleware(
        ReadGate,
        limit=settings.api_read_concurrency,
        max_wait=settings.api_read_wait_seconds,
        rate=settings.api_reads_per_second,
        burst=settings.api_read_burst,
        max_pace_wait=settings.api_read_wait_seconds,
    )
    app.add_middleware(DoorMiddleware)
    routers = (
        health.router,
        identity.router,
        telethon_login.router,
        accounts.router,
        contacts.router,
        do_not_contact.router,
        reply_rules.router,
        campaigns.router,
        campaign_contacts.router,
        reports.router,
        diagnosis.router,
        preview.router,
        webhooks.router,
    )
    for router in routers:
        app.include_router(router)

    # Last: sign-in and the console's own endpoints, then the catch-all serving the SPA.
    mount_console(app)
    return app
