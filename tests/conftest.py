"""Session-wide real services: PostgreSQL, a Temporal dev server, the simulator, a worker."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.telegram.login import TelethonLogin
from api.app import create_app
from db.migrate import upgrade
from db.session import SessionFactory, make_engine, make_session_factory
from db.settings import Settings
from simulator.app import create_app as create_simulator
from tgflows.devstack import DEV_SERVER_ARGS
from tgflows.worker import running_worker
from workflows.dispatch import CAMPAIGN_ID, ORGANIZATION_ID

TASK_QUEUE = "tgflows-test"
os.environ.setdefault("TGFLOWS_SECRET_KEY", "test-secret-key")
# As `tgflows dev`: webhook receivers on loopback, retried and found fast.
os.environ.setdefault("TGFLOWS_WEBHOOK_ALLOW_PRIVATE", "true")
os.environ.setdefault("TGFLOWS_WEBHOOK_RETRY_INITIAL_SECONDS", "0.2")
os.environ.setdefault("TGFLOWS_WEBHOOK_RETRY_MAX_SECONDS", "1")
os.environ.setdefault("TGFLOWS_WEBHOOK_POLL_SECONDS", "0.2")


def binary(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    assert Path(found).exists(), f"{name} not installed: pip install -e '.[dev]'"
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database: on DATABASE_URL's server when set, else an embedded PostgreSQL."""
    server = None
    base = os.environ.get("DATABASE_URL")
    if not base:
        from db.embedded import start

        server = start(Path(tempfile.mkdtemp(prefix="tgflows-pg-")), cleanup_mode="delete")
        base = server.get_uri()
    name = f"tgflows_test_{secrets.token_hex(4)}"
    admin_url = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(admin_url, name)
    upgrade(url)
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if server is not None:
        server.cleanup()


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        search_attributes=[CAMPAIGN_ID, ORGANIZATION_ID],
        # `make bench` sets "never": at shutdown the server logs an error for every
        # workflow still running, thousands of lines after a load test.
        dev_server_log_level=os.environ.get("TGFLOWS_TEST_TEMPORAL_LOG_LEVEL", "error"),
        dev_server_extra_args=list(DEV_SERVER_ARGS),  # as `tgflows dev` runs it
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def simulator_url() -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_simulator(), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
async def worker(
    temporal_env: WorkflowEnvironment, database_url: str, simulator_url: str
) -> AsyncIterator[str]:
    """The session's worker; its value is the URL of its metrics and health port."""
    port = free_port()
    async with running_worker(
        temporal_env.client,
        database_url,
        simulator_url,
        task_queue=TASK_QUEUE,
        owner="test-worker",
        lease_interval=0.3,
        health_interval=5.0,
        # A send on the queue of a Telethon account no worker holds says why in seconds.
        send_queue_wait=3,
        metrics_port=port,
    ):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
async def api(
    sessions: SessionFactory, temporal_env: WorkflowEnvironment, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(DATABASE_URL=database_url, TGFLOWS_TASK_QUEUE=TASK_QUEUE)
    app = create_app(settings, telegram_login=TelethonLogin())
    app.state.sessions = sessions
    app.state.temporal = temporal_env.client
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


@pytest.fixture(scope="session")
async def sim(simulator_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=simulator_url) as client:
        yield client


@pytest.fixture
def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 20, interval: float = 0.1
) -> Any:
    """Poll until check() returns something truthy; fail with the last value otherwise."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


@dataclass
class Caller:
    """A user with a token, speaking to the api in one mode."""

    http: httpx.AsyncClient
    token: str
    user_id: int
    org_id: int | None = None

    def headers(self, org: int | str | None = "default") -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.token}"}
        org_id = self.org_id if org == "default" else org
        if org_id is not None:
            h["X-Organization-Id"] = str(org_id)
        return h

    async def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {**self.headers(kw.pop("org", "default")), **kw.pop("headers", {})}
        return await self.http.request(method.upper(), path, headers=headers, **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("POST", path, **kw)

    async def patch(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kw)

    async def ok(self, method: str, path: str, **kw: Any) -> Any:
        resp = await getattr(self, method)(path, **kw)
        assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else None


@pytest.fixture
def make_user(api: httpx.AsyncClient, sessions: SessionFactory) -> Callable[..., Awaitable[Caller]]:
    from api.identity.service import ensure_membership, get_or_create_user, issue_token
    from api.policies import Role

    async def make(org: str | None = None, role: str = "owner") -> Caller:
        async with sessions.begin() as session:
            user = await get_or_create_user(session, f"u{secrets.token_hex(6)}@example.com")
            org_id = None
            if org:
                org_id = (await ensure_membership(session, user, org, Role(role))).id
            _, token = await issue_token(session, user)
        return Caller(api, token, user.id, org_id)

    return make


def two_step_flow(text: str = "Hi {first_name}") -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "hello", "type": "send_message", "data": {"text": text}},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "hello"},
            {"source": "hello", "target": "end"},
        ],
    }


async def campaign_with_contacts(
    caller: Caller,
    usernames: list[str],
    flow: dict[str, Any] | None = None,
    account: dict[str, Any] | None = None,
    **campaign: Any,
) -> tuple[int, int, list[int]]:
    """An account, contacts and a draft campaign holding them: (campaign, account, contacts)."""
    acct = await caller.ok(
        "post",
        "/telegram-accounts",
        json={
            "provider": "simulator",
            "phone": f"+1{secrets.randbelow(10**10):010d}",
            **(account or {}),
        },
    )
    contact_ids = []
    for name in usernames:
        contact = await caller.ok(
            "post", "/contacts", json={"username": name, "first_name": name.capitalize()}
        )
        contact_ids.append(contact["id"])
    body = {
        "name": "Campaign",
        "telegram_account_id": acct["id"],
        "timezone": "UTC",
        "flow": flow or two_step_flow(),
        **campaign,
    }
    created = await caller.ok("post", "/campaign-flows", json=body)
    if contact_ids:
        await caller.ok(
            "post", f"/campaign-flows/{created['id']}/contacts", json={"contact_ids": contact_ids}
        )
    return created["id"], acct["id"], contact_ids


def unique(prefix: str = "lead") -> str:
    return f"{prefix}_{secrets.token_hex(5)}"
