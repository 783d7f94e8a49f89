"""The worker entry point: builds activities with their dependencies and runs them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator

from temporalio.client import Client
from temporalio.worker import Worker

from activities.executions import ExecutionActivities
from activities.fanout import CampaignActivities
from activities.listener import ReplyListener
from activities.sending import SendActivities
from activities.telegram.pool import ProviderPool
from db.session import SessionFactory, make_engine, make_session_factory
from db.settings import Settings
from workflows.contact import ContactWorkflow
from workflows.control import CampaignControlWorkflow

log = logging.getLogger(__name__)


def build_worker(
    client: Client,
    sessions: SessionFactory,
    pool: ProviderPool,
    *,
    task_queue: str,
    max_cached_workflows: int = 2000,
    search_attributes: bool = True,
) -> Worker:
    executions = ExecutionActivities(sessions)
    campaigns = CampaignActivities(
        sessions, client, task_queue, search_attributes=search_attributes
    )
    sending = SendActivities(sessions, pool, campaigns.pause_account_campaigns)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ContactWorkflow, CampaignControlWorkflow],
        activities=[
            executions.load_execution,
            executions.record_step,
            executions.finish_execution,
            sending.send_message,
            campaigns.fanout_page,
            campaigns.activate_scheduled,
        ],
        max_cached_workflows=max_cached_workflows,
        max_concurrent_activities=200,
        max_concurrent_local_activities=200,
    )


@contextlib.asynccontextmanager
async def running_worker(
    client: Client,
    database_url: str,
    simulator_url: str,
    *,
    task_queue: str,
    owner: str,
    lease_interval: float = 5.0,
    search_attributes: bool = True,
) -> AsyncIterator[Worker]:
    """A worker plus its reply listener, cleaned up on exit."""
    engine = make_engine(database_url, pool_size=20)
    sessions = make_session_factory(engine)
    pool = ProviderPool(simulator_url)
    worker = build_worker(
        client, sessions, pool, task_queue=task_queue, search_attributes=search_attributes
    )
    listener = asyncio.create_task(
        ReplyListener(sessions, pool, client, owner, lease_interval=lease_interval).run()
    )
    try:
        async with worker:
            yield worker
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await pool.close()
        await engine.dispose()


async def main(settings: Settings) -> None:
    client = await Client.connect(
        settings.resolved_temporal_address(), namespace=settings.temporal_namespace
    )
    owner = settings.worker_id or f"{socket.gethostname()}:{os.getpid()}"
    async with running_worker(
        client,
        settings.resolved_database_url(),
        settings.resolved_simulator_url(),
        task_queue=settings.task_queue,
        owner=owner,
    ):
        log.info("worker %s polling task queue %s", owner, settings.task_queue)
        await asyncio.Event().wait()
