"""The api's statement timeout: a read that runs too long is cancelled by PostgreSQL and
answered 503 `query_timeout`, not a 500 or `database_unavailable`."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from api.errors import install_error_handlers
from db.session import make_engine, make_session_factory


async def test_a_statement_over_the_timeout_is_answered_query_timeout(database_url: str) -> None:
    engine = make_engine(database_url, statement_timeout=0.2, application_name="tgflows-api")
    sessions = make_session_factory(engine)
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        async with sessions() as session:
            await session.execute(text("SELECT pg_sleep(2)"))
        return {}

    @app.get("/name")
    async def name() -> dict[str, str]:
        async with sessions() as session:
            return {"name": str(await session.scalar(text("SHOW application_name")))}

    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            resp = await client.get("/slow")
            assert resp.status_code == 503
            assert resp.json()["code"] == "query_timeout"
            assert (await client.get("/name")).json() == {"name": "tgflows-api"}
    finally:
        await engine.dispose()
