"""Property-based fuzz of the whole API from its OpenAPI document (schemathesis).

The api runs in its own uvicorn thread against the suite's PostgreSQL and Temporal,
seeded with an organization, an account, contacts and campaigns; path ids are set to
the seeded rows so that requests reach past 404. Lifecycle actions, deletions, token
revocation, the Telethon login (which dials Telegram) and readiness are left out: they change the
seeded state under the other cases or leave the machine. `make test` runs a bounded
pass; `make bench` (slow) a longer one.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from db.settings import Settings
from tests.conftest import TASK_QUEUE, free_port

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
OFFLINE = Settings(DATABASE_URL="postgresql+psycopg://unused@127.0.0.1:1/unused")
schema = (
    schemathesis.openapi.from_dict(create_app(OFFLINE).openapi())
    .exclude(method="DELETE")
    .exclude(path_regex=r"/(launch|pause|stop|enable|disable|restore|duplicate)$")
    .exclude(path_regex=r"/telethon/login$|/login/(code|password)$")
    # Failed sign-ins lock the client address out of /auth/login for minutes (this api
    # process's limiter), which would sign the browser tests out; tests/console covers it.
    .exclude(path="/auth/login")
    # Readiness asks whether workers poll, and the suite's worker runs on the event loop
    # that these synchronous cases leave idle: tests/api/test_health.py covers it.
    .exclude(path="/health")
    # A created webhook would resolve (DNS) and, once events occur, call any URL the
    # fuzzer invents: tests/webhooks covers creation with receivers on loopback.
    .exclude(path="/webhooks", method="POST")
)


@dataclass
class Seeded:
    base_url: str
    headers: dict[str, str]
    ids: dict[str, int]


async def _token(database_url: str) -> tuple[str, int, int]:
    from api.identity.service import ensure_membership, get_or_create_user, issue_token
    from api.policies import Role
    from db.session import make_engine, make_session_factory

    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine).begin() as session:
            user = await get_or_create_user(session, f"fuzz{secrets.token_hex(4)}@example.com")
            org = await ensure_membership(session, user, f"fuzz-{secrets.token_hex(3)}", Role.OWNER)
            _, token = await issue_token(session, user)
            return token, org.id, user.id
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def seeded(database_url: str, temporal_env: WorkflowEnvironment, worker: None) -> Iterator[Seeded]:
    address = temporal_env.client.service_client.config.target_host
    app = create_app(
        Settings(DATABASE_URL=database_url, TEMPORAL_ADDRESS=address, TGFLOWS_TASK_QUEUE=TASK_QUEUE)
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", server_header=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    with ThreadPoolExecutor(1) as pool:  # its own event loop, away from the suite's
        token, org_id, user_id = pool.submit(asyncio.run, _token(database_url)).result()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}", "X-Organization-Id": str(org_id)}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        account = http.post(
            "/telegram-accounts",
            json={"provider": "simulator", "phone": f"+5{secrets.randbelow(10**10):010d}"},
        ).json()
        contacts = [
            http.post("/contacts", json={"username": f"fz{secrets.token_hex(4)}"}).json()["id"]
            for _ in range(3)
        ]
        campaign = http.post(
            "/campaign-flows",
            json={
                "name": "Fuzzed",
                "telegram_account_id": account["id"],
                "flow": {
                    "nodes": [
                        {"id": "start", "type": "start"},
                        {"id": "hi", "type": "send_message", "data": {"text": "Hi {first_name}"}},
                        {"id": "end", "type": "end"},
                    ],
                    "edges": [
                        {"source": "start", "target": "hi"},
                        {"source": "hi", "target": "end"},
                    ],
                },
                "contact_ids": contacts,
            },
        ).json()
        token_id = http.post("/auth/tokens", json={"name": "spare"}).json()["id"]
    ids = {
        "campaign_id": campaign["id"],
        "contact_id": contacts[0],
        "account_id": account["id"],
        "org_id": org_id,
        "user_id": user_id,
        "token_id": token_id,
    }
    yield Seeded(base, headers, ids)
    server.should_exit = True
    thread.join(timeout=10)


def _run(case: Any, seeded: Seeded) -> None:
    for key in case.path_parameters or {}:
        if key in seeded.ids:
            case.path_parameters[key] = seeded.ids[key]
    # The seeded caller's credentials, whatever was generated for these headers.
    case.headers = {**(case.headers or {}), **seeded.headers}
    case.call_and_validate(base_url=seeded.base_url, checks=CHECKS, timeout=60)


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_document(case: Any, seeded: Seeded) -> None:
    _run(case, seeded)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document_at_length(case: Any, seeded: Seeded) -> None:
    _run(case, seeded)
