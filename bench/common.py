"""Helpers shared by the benchmarks: bulk data and a bare Temporal baseline."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from typing import Any

from sqlalchemy import insert
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy

from db.models import CampaignFlow, Contact, FlowExecution, TelegramAccount
from db.session import SessionFactory
from workflows.dispatch import search_attributes_for

CONTACTS = int(os.environ.get("BENCH_CONTACTS", "10000"))


def report(name: str, **values: Any) -> None:
    parts = [f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()]
    print(f"\nBENCH {name}: " + " ".join(parts), flush=True)


async def bulk_campaign(
    sessions: SessionFactory,
    *,
    user_id: int,
    count: int,
    flow: dict[str, Any],
    account: dict[str, Any] | None = None,
    accounts: int = 1,
) -> tuple[int, int]:
    """A draft campaign with `count` pending executions, inserted in bulk; with
    `accounts` > 1 it rotates over that many accounts alike (the first is returned)."""
    async with sessions.begin() as session:
        every = [
            TelegramAccount(
                user_id=user_id,
                provider="simulator",
                phone=f"+9{secrets.randbelow(10**10)}",
                **(account or {}),
            )
            for _ in range(accounts)
        ]
        session.add_all(every)
        await session.flush()
        acct = every[0]
        tag = secrets.token_hex(3)
        contact_ids = list(
            await session.scalars(
                insert(Contact).returning(Contact.id),
                [
                    {"user_id": user_id, "username": f"b{tag}_{i}", "first_name": f"N{i}"}
                    for i in range(count)
                ],
            )
        )
        campaign = CampaignFlow(
            name="bench",
            status="draft",
            enabled=True,
            telegram_account_id=acct.id,
            telegram_account_ids=[a.id for a in every] if accounts > 1 else None,
            timezone="UTC",
            flow=flow,
            created_by=user_id,
        )
        session.add(campaign)
        await session.flush()
        for start in range(0, count, 5000):
            await session.execute(
                insert(FlowExecution),
                [
                    {"campaign_id": campaign.id, "contact_id": cid, "status": "pending"}
                    for cid in contact_ids[start : start + 5000]
                ],
            )
        return campaign.id, acct.id


async def start_bare(
    client: Client, queue: str, count: int, sleep_seconds: int, label: str, tag: int
) -> float:
    """Start `count` bare workflows with the fan-out's concurrency; seconds taken."""
    gate = asyncio.Semaphore(64)

    async def one(i: int) -> None:
        async with gate:
            await client.start_workflow(
                "BareWorkflow",
                sleep_seconds,
                id=f"bare-{label}-{i}",
                task_queue=queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=search_attributes_for(tag, None),
            )

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return time.perf_counter() - began
