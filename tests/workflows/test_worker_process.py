"""`tgflows worker` as a process: it drains on SIGTERM/SIGINT, and when it is killed
another worker takes its accounts over within seconds."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from temporalio.testing import WorkflowEnvironment

from db.models import TelegramAccount
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, eventually, unique


@pytest.fixture
def worker_env(
    temporal_env: WorkflowEnvironment, database_url: str, simulator_url: str
) -> Iterator[dict[str, str]]:
    yield {
        **os.environ,
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "TGFLOWS_SIMULATOR_URL": simulator_url,
        "TGFLOWS_TASK_QUEUE": unique("queue"),
        "TGFLOWS_WORKER_ID": unique("process"),
    }


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tgflows", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def held_by(sessions: SessionFactory, account_id: int, owner: str) -> bool:
    """The owner holds the account's lease and its listener has caught up."""
    async with sessions() as session:
        account = await session.get(TelegramAccount, account_id)
    assert account is not None
    return account.lease_owner == owner and account.updates_caught_up


async def hand_to(sessions: SessionFactory, account_id: int, owner: str) -> None:
    """The account's lease goes to `owner`, long enough for its process to start on a
    loaded host (the test worker would take the account over once it expired); its
    first renewal gives it the usual term."""
    async with sessions.begin() as session:
        await session.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == account_id)
            .values(
                lease_owner=owner,
                lease_expires_at=datetime.now(UTC) + timedelta(seconds=600),
                updates_caught_up=False,
            )
        )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_signalled_worker_drains_within_ten_seconds_and_releases_its_leases(
    make_user: Any, sessions: SessionFactory, worker_env: dict[str, str], signum: int
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    _, account_id, _ = await campaign_with_contacts(caller, [unique()])
    owner = worker_env["TGFLOWS_WORKER_ID"]
    await hand_to(sessions, account_id, owner)
    proc = start_worker(worker_env)
    try:
        await eventually(lambda: held_by(sessions, account_id, owner), timeout=180)
        signalled = time.monotonic()
        proc.send_signal(signum)
        code = await asyncio.to_thread(proc.wait, 15)
        took = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0
    print(f"the worker drained in {took:.1f}s")
    assert took < 10, f"the worker took {took:.1f}s to drain"
    async with sessions() as session:
        account = await session.get(TelegramAccount, account_id)
    assert account is not None and account.lease_owner != owner


@pytest.mark.usefixtures("worker")
async def test_a_killed_worker_is_replaced_within_seconds(
    make_user: Any,
    sessions: SessionFactory,
    sim: httpx.AsyncClient,
    worker_env: dict[str, str],
) -> None:
    """Its lease expires and the test worker takes the account over and sends."""
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, account_id, _ = await campaign_with_contacts(caller, [peer])
    owner = worker_env["TGFLOWS_WORKER_ID"]
    await hand_to(sessions, account_id, owner)
    proc = start_worker(worker_env)
    try:
        await eventually(lambda: held_by(sessions, account_id, owner), timeout=180)
        await asyncio.sleep(2.5)  # at least one renewal: the lease runs its full term
        proc.kill()
        killed = time.monotonic()
        await asyncio.to_thread(proc.wait, 5)
    finally:
        if proc.poll() is None:
            proc.kill()

    async def expired() -> bool:
        async with sessions() as session:
            account = await session.get(TelegramAccount, account_id)
        assert account is not None
        return account.lease_owner != owner or account.lease_expires_at < datetime.now(UTC)

    # Launched once the dead worker's lease has run out: the send needs a live listener,
    # so it goes out only after the test worker has taken the account over.
    await eventually(expired, timeout=30)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def delivered() -> bool:
        return bool((await sim.get(f"/peers/{peer}/messages")).json()["items"])

    await eventually(delivered, timeout=30)
    took = time.monotonic() - killed
    print(f"sending resumed {took:.1f}s after the kill")
    assert took < 12, f"sending resumed {took:.1f}s after the kill"
    assert await held_by(sessions, account_id, "test-worker")
