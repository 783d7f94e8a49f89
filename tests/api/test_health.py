"""Readiness, liveness, outages and failed-authentication limits (issues 13.5 and 14.7)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from db.session import make_engine, make_session_factory
from db.settings import Settings
from tests.conftest import TASK_QUEUE, free_port
from workflows.limits import AUTH_FAILURES_PER_MINUTE


async def _client_for(
    settings: Settings, sessions: Any, temporal: Client | None
) -> httpx.AsyncClient:
    app = create_app(settings)
    app.state.sessions = sessions
    app.state.temporal = temporal
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


@pytest.fixture
async def database_down(temporal_env: WorkflowEnvironment) -> AsyncIterator[httpx.AsyncClient]:
    """An api whose PostgreSQL does not answer (nothing listens on its port)."""
    url = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
    engine = make_engine(url)
    settings = Settings(DATABASE_URL=url, TGFLOWS_TASK_QUEUE=TASK_QUEUE)
    async with await _client_for(
        settings, make_session_factory(engine), temporal_env.client
    ) as client:
        yield client
    await engine.dispose()


@pytest.mark.usefixtures("worker")
async def test_ready_when_postgres_temporal_and_workers_are_up(api: httpx.AsyncClient) -> None:
    resp = await api.get("/health")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "ok" and body["postgresql"]["ok"] and body["temporal"]["ok"]
    queues = body["task_queues"]
    assert set(queues) == {TASK_QUEUE, f"{TASK_QUEUE}-control", f"{TASK_QUEUE}-webhooks"}
    assert all(q["ok"] and q["workflow_pollers"] >= 1 for q in queues.values())
    assert (await api.get("/health/live")).json() == {"status": "ok"}


async def test_not_ready_without_workers_on_the_queue(
    sessions: Any, temporal_env: WorkflowEnvironment, database_url: str
) -> None:
    settings = Settings(DATABASE_URL=database_url, TGFLOWS_TASK_QUEUE="nobody-polls-this")
    async with await _client_for(settings, sessions, temporal_env.client) as client:
        resp = await client.get("/health")
    assert resp.status_code == 503
    body = resp.json()
    assert body["code"] == "unavailable" and "workers polling nobody-polls-this" in body["detail"]
    assert body["postgresql"]["ok"] and body["temporal"]["ok"]
    assert body["task_queues"]["nobody-polls-this"]["workflow_pollers"] == 0


async def test_postgres_down_is_json_503_on_every_route(
    database_down: httpx.AsyncClient,
) -> None:
    resp = await database_down.get("/health")
    assert resp.status_code == 503
    body = resp.json()
    assert not body["postgresql"]["ok"] and body["temporal"]["ok"]
    assert "PostgreSQL" in body["detail"] or "postgresql" in body["detail"]
    for method, path in [("GET", "/campaign-flows"), ("GET", "/me"), ("POST", "/contacts")]:
        resp = await database_down.request(
            method, path, headers={"Authorization": "Bearer tgf_x"}, json={"username": "a"}
        )
        assert resp.status_code == 503, (path, resp.text)
        assert resp.json()["code"] == "database_unavailable"
        assert resp.headers["content-type"] == "application/json"
    live = await database_down.get("/health/live")
    assert live.status_code == 200


async def test_temporal_down_makes_health_503(sessions: Any, database_url: str) -> None:
    settings = Settings(DATABASE_URL=database_url, TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}")
    async with await _client_for(settings, sessions, None) as client:
        resp = await client.get("/health")
    assert resp.status_code == 503
    body = resp.json()
    assert body["postgresql"]["ok"] and not body["temporal"]["ok"]
    assert not any(q["ok"] for q in body["task_queues"].values())


async def test_failed_authentication_is_rate_limited(
    sessions: Any, temporal_env: WorkflowEnvironment, database_url: str, make_user: Any
) -> None:
    caller = await make_user()
    settings = Settings(DATABASE_URL=database_url, TGFLOWS_TASK_QUEUE=TASK_QUEUE)
    async with await _client_for(settings, sessions, temporal_env.client) as client:
        codes = []
        for i in range(AUTH_FAILURES_PER_MINUTE + 5):
            resp = await client.get("/me", headers={"Authorization": f"Bearer tgf_guess{i:06d}"})
            codes.append(resp.status_code)
        assert codes[:AUTH_FAILURES_PER_MINUTE] == [401] * AUTH_FAILURES_PER_MINUTE
        assert codes[AUTH_FAILURES_PER_MINUTE:] == [429] * 5
        assert 1 <= int(resp.headers["retry-after"]) <= 60
        assert resp.json()["code"] == "too_many_requests"
        # Someone else's bad tokens from the same address never lock a valid token out.
        mine = await client.get("/me", headers={"Authorization": f"Bearer {caller.token}"})
        assert mine.status_code == 200


async def test_one_token_prefix_is_limited_from_any_address(
    sessions: Any, temporal_env: WorkflowEnvironment, database_url: str
) -> None:
    settings = Settings(DATABASE_URL=database_url, TGFLOWS_TASK_QUEUE=TASK_QUEUE)
    app = create_app(settings)
    app.state.sessions = sessions
    app.state.temporal = temporal_env.client
    last = None
    for i in range(AUTH_FAILURES_PER_MINUTE + 1):
        transport = httpx.ASGITransport(app=app, client=(f"10.0.0.{i}", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            last = await client.get("/me", headers={"Authorization": f"Bearer tgf_samepfx_{i}"})
    assert last is not None and last.status_code == 429


async def test_openapi_documents_errors_and_the_typed_flow(api: httpx.AsyncClient) -> None:
    doc = (await api.get("/openapi.json")).json()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for status in ("413", "422", "429", "503"):
                assert status in operation["responses"], (method, path, status)
            ref = operation["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorBody"), (method, path)
    schemas = doc["components"]["schemas"]
    node = schemas["FlowIn"]["properties"]["nodes"]["items"]
    assert node["discriminator"]["propertyName"] == "type"
    assert set(node["discriminator"]["mapping"]) == {
        "start",
        "send_message",
        "delay",
        "wait_for_reply",
        "condition",
        "ab_split",
        "end",
    }
    assert "text" in schemas["SendMessageData"]["properties"]
    assert "replied" in schemas["Edge"]["properties"]["label"]["description"]
