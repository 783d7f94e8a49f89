"""A Temporal dev server and a PostgreSQL the chaos scenario can restart under a campaign.

The session's services (tests/conftest.py) serve every other test and the session's
Temporal keeps its state in memory, so the scenario restarts its own: Temporal with a
`--db-filename` SQLite file started again on the same port and file, PostgreSQL with
`pg_ctl restart` of the same data directory. The api's client and the worker are not
told: they must reconnect by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError

from db.migrate import upgrade
from db.session import SessionFactory, make_engine, make_session_factory
from tests.conftest import Caller, binary, free_port
from tgflows.devstack import DEV_SERVER_ARGS


class RestartableTemporal:
    """`temporal server start-dev` on a SQLite file, killed and started again at will."""

    def __init__(self, home: Path) -> None:
        self.port = free_port()
        self._args = [
            binary("temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(home / "temporal.db"),
            "--port",
            str(self.port),
            "--headless",
            "--http-port",
            str(free_port()),
            "--metrics-port",
            str(free_port()),
            "--search-attribute",
            "CampaignId=Keyword",
            "--search-attribute",
            "OrganizationId=Keyword",
            "--log-level",
            "error",
            *DEV_SERVER_ARGS,
        ]
        self._log = (home / "temporal.log").open("ab")
        self._child: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._child = subprocess.Popen(
            self._args, start_new_session=True, stdout=self._log, stderr=subprocess.STDOUT
        )
        for _ in range(600):
            with contextlib.suppress(RuntimeError, RPCError):
                client = await Client.connect(self.address)
                await client.workflow_service.get_system_info(GetSystemInfoRequest())
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"Temporal did not start on {self.address}")

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self._child is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._child.pid, sig)
        try:
            await asyncio.to_thread(self._child.wait, 30)
        except subprocess.TimeoutExpired:
            os.killpg(self._child.pid, signal.SIGKILL)
            await asyncio.to_thread(self._child.wait)
        self._child = None

    async def restart(self, sig: int = signal.SIGKILL, down: float = 0.5) -> None:
        """Stop the server (SIGKILL: a crash), leave it down a moment, start it again."""
        await self.stop(sig)
        await asyncio.sleep(down)
        await self.start()
        self.restarts += 1


class RestartablePostgres:
    """An embedded PostgreSQL whose data directory `pg_ctl restart` serves again."""

    def __init__(self, home: Path) -> None:
        from db.embedded import start

        self._server = start(home / "pg", cleanup_mode="delete")
        self._pgdata = str(home / "pg")
        self.admin_url = str(self._server.get_uri())
        self.restarts = 0

    def create_database(self) -> str:
        from sqlalchemy.engine import make_url

        name = f"tgflows_chaos_{secrets.token_hex(4)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        return url

    async def restart(self) -> None:
        """A fast shutdown (every connection dropped) and a start on the same directory."""
        from db.embedded import pg_ctl

        # As the package runs pg_ctl: as its system user when root, output to files.
        await asyncio.to_thread(
            pg_ctl, self._server, ["-w", "-l", self._pgdata + "/log", "-m", "fast", "restart"]
        )
        self.restarts += 1

    def cleanup(self) -> None:
        self._server.cleanup()


@dataclass
class Stack:
    """The scenario's own Temporal and database, and handles to restart them."""

    temporal: RestartableTemporal
    postgres: RestartablePostgres
    client: Client
    database_url: str
    sessions: SessionFactory


@contextlib.asynccontextmanager
async def restartable_stack() -> AsyncIterator[Stack]:
    home = Path(tempfile.mkdtemp(prefix="tgflows-chaos-stack-"))
    temporal = RestartableTemporal(home)
    postgres = await asyncio.to_thread(RestartablePostgres, home)
    await temporal.start()
    try:
        database_url = await asyncio.to_thread(postgres.create_database)
        engine = make_engine(database_url)
        try:
            client = await Client.connect(temporal.address)
            yield Stack(temporal, postgres, client, database_url, make_session_factory(engine))
        finally:
            await engine.dispose()
    finally:
        await temporal.stop()
        await asyncio.to_thread(postgres.cleanup)


async def owner_in(stack: Stack, http: httpx.AsyncClient) -> Caller:
    """A user with a token in the stack's database (api_for gives it that stack's api)."""
    from api.identity.service import get_or_create_user, issue_token

    async with stack.sessions.begin() as session:
        user = await get_or_create_user(session, f"u{secrets.token_hex(6)}@example.com")
        _, token = await issue_token(session, user)
    return Caller(http, token, user.id)
