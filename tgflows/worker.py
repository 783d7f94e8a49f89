"""The worker entry point: builds activities with their dependencies and runs them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.abtest import AbTestActivities
from activities.executions import SEND_QUEUE_WAIT, ExecutionActivities
from activities.fanout import CampaignActivities
from activities.listener import ReplyListener
from activities.metrics import ObservedActivities
from activities.sending import SendActivities
from activities.supervisor import AccountSupervisor
from activities.telegram.pool import ProviderPool
from activities.unserved import UnservedActivities
from activities.webhooks import WebhookActivities, WebhookDispatcher
from db.repositories.inbound import LEASE_INTERVAL
from db.session import SessionFactory, make_engine, make_session_factory
from db.settings import Settings
from workflows.contact import ContactWorkflow
from workflows.control import CampaignControlWorkflow
from workflows.limits import DEFAULT_MAX_SENDS_PER_EXECUTION
from workflows.types import account_task_queue, control_task_queue
from workflows.webhook_types import webhook_task_queue
from workflows.webhooks import WebhookStreamWorkflow
from workflows.worker_monitor import WorkerMonitor, sdk_runtime, serving

log = logging.getLogger(__name__)


ROLES = ("contacts", "control")
# On SIGTERM/SIGINT: in-flight activities get this long to finish, then are cancelled
# and retried elsewhere; polling stops at once. The rest of the drain (leases, clients,
# connections) takes well under a second, so a worker is gone within 10 s.
DRAIN = timedelta(seconds=5)


@dataclass
class Components:
    contacts: Worker
    control: Worker
    sending: SendActivities
    campaigns: CampaignActivities
    webhooks: Worker


def build_worker(
    client: Client,
    sessions: SessionFactory,
    pool: ProviderPool,
    *,
    task_queue: str,
    max_cached_workflows: int = 2000,
    search_attributes: bool = True,
    sandboxed: bool = True,
    max_sends: int = DEFAULT_MAX_SENDS_PER_EXECUTION,
    send_queue_wait: int = SEND_QUEUE_WAIT,
) -> Components:
    """Two workers: the contact workflows with their activities, and campaign control.

    `sandboxed=False` (TGFLOWS_WORKFLOW_SANDBOX=false) runs contact workflows outside
    Temporal's sandbox, a sixth less worker CPU per lead; see docs/decisions.md for why
    it is not the default. Control workflows always run in the sandbox.
    """
    executions = ExecutionActivities(
        sessions, max_sends=max_sends, send_queue_wait=send_queue_wait
    )
    ab_tests = AbTestActivities(sessions)
    campaigns = CampaignActivities(
        sessions,
        client,
        task_queue,
        search_attributes=search_attributes,
        planner=executions.plans,
    )
    sending = SendActivities(sessions, pool, campaigns.pause_account_campaigns)
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
    )
    control_activities: list[Callable[..., Any]] = [
        campaigns.fanout_page,
        campaigns.activate_scheduled,
        campaigns.mark_applied,
    ]
    contacts = Worker(
        client,
        task_queue=task_queue,
        workflows=[ContactWorkflow],
        activities=[
            executions.load_execution,
            executions.load_flow,
            executions.record_step,
            executions.finish_execution,
            ab_tests.ab_winner,
            sending.send_message,
            UnservedActivities(sessions, send_queue_wait).record_unserved,
        ],
        max_cached_workflows=max_cached_workflows,
        workflow_runner=runner if sandboxed else UnsandboxedWorkflowRunner(),
        # Sends wait for one of their 10 slots (SendActivities) inside the activity, not
        # in the task queue: with free activity slots the worker asks for the activities
        # its workflows schedule to be handed over at once (eager dispatch), which spares
        # the Temporal server a task-queue round trip per send (docs/decisions.md). Local
        # activities stay bounded below the database pool (20 + 20 overflow).
        max_concurrent_activities=200,
        max_concurrent_local_activities=30,
        interceptors=[ObservedActivities()],
        graceful_shutdown_timeout=DRAIN,
    )
    control = Worker(
        client,
        task_queue=control_task_queue(task_queue),
        workflows=[CampaignControlWorkflow],
        activities=control_activities,
        workflow_runner=runner,
        max_concurrent_activities=10,
        interceptors=[ObservedActivities()],
        graceful_shutdown_timeout=DRAIN,
    )
    # Webhook deliveries have a queue of their own (run with the control role), so slow
    # receivers never take the fan-out's activity slots.
    hooks = WebhookActivities(sessions, allow_private=Settings().webhook_allow_private)
    webhooks = Worker(
        client,
        task_queue=webhook_task_queue(task_queue),
        workflows=[WebhookStreamWorkflow],
        activities=[hooks.pending, hooks.deliver, hooks.give_up],
        workflow_runner=runner,
        max_concurrent_activities=20,
        interceptors=[ObservedActivities()],
        graceful_shutdown_timeout=DRAIN,
    )
    return Components(contacts, control, sending, campaigns, webhooks)


@contextlib.asynccontextmanager
async def running_worker(
    client: Client,
    database_url: str,
    simulator_url: str,
    *,
    task_queue: str,
    owner: str,
    lease_interval: float = LEASE_INTERVAL,
    search_attributes: bool = True,
    max_cached_workflows: int = 2000,
    health_interval: float = 60.0,
    reconcile_interval: float = 60.0,
    roles: Collection[str] = ROLES,
    sandboxed: bool = True,
    max_sends: int = DEFAULT_MAX_SENDS_PER_EXECUTION,
    send_queue_wait: int = SEND_QUEUE_WAIT,
    metrics_port: int = 0,
    metrics_host: str = "127.0.0.1",
) -> AsyncIterator[None]:
    """The workers of the given roles, cleaned up on exit.

    contacts: contact workflows, sends, and the account supervisor (leases, reply
    listeners, health checks). control: campaign control workflows, their fan-out and
    the reconciler. One process runs both unless told otherwise. metrics_port (0: none)
    serves the worker's /metrics, /health and /health/live.
    """
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"worker roles must be among {ROLES}, got {sorted(roles)}")
    engine = make_engine(
        database_url, pool_size=20, pre_ping=False, application_name="tgflows-worker"
    )
    sessions = make_session_factory(engine)
    pool = ProviderPool(simulator_url)
    parts = build_worker(
        client,
        sessions,
        pool,
        task_queue=task_queue,
        search_attributes=search_attributes,
        max_cached_workflows=max_cached_workflows,
        sandboxed=sandboxed,
        max_sends=max_sends,
        send_queue_wait=send_queue_wait,
    )

    def account_worker(account_id: int) -> Worker:
        return Worker(
            client,
            task_queue=account_task_queue(account_id),
            activities=[parts.sending.send_message],
            max_concurrent_activities=20,
            interceptors=[ObservedActivities()],
            graceful_shutdown_timeout=DRAIN,
        )

    supervisor = AccountSupervisor(
        sessions,
        pool,
        ReplyListener(sessions, pool, client, owner),
        owner,
        account_worker=account_worker,
        on_unauthorized=parts.campaigns.pause_account_campaigns,
        lease_interval=lease_interval,
        health_interval=health_interval,
    )
    # Each role: its Temporal worker and the loop that runs beside it.
    jobs = {
        "contacts": (parts.contacts, supervisor.run),
        "control": (parts.control, lambda: _reconcile_forever(parts.campaigns, reconcile_interval)),
    }
    background = [asyncio.create_task(jobs[role][1]()) for role in roles]
    if "control" in roles:
        dispatcher = WebhookDispatcher(sessions, client, task_queue, Settings())
        background.append(asyncio.create_task(dispatcher.run()))
    try:
        async with contextlib.AsyncExitStack() as stack:
            for role in roles:
                await stack.enter_async_context(jobs[role][0])
            if "control" in roles:
                await stack.enter_async_context(parts.webhooks)
            if metrics_port:
                pollers = {jobs[r][0].task_queue: jobs[r][0] for r in roles}
                monitor = WorkerMonitor(sessions, client, pollers)
                await stack.enter_async_context(serving(monitor.app(), metrics_host, metrics_port))
            yield
    finally:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await pool.close()
        await engine.dispose()


async def _reconcile_forever(campaigns: CampaignActivities, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            if count := await campaigns.reconcile():
                log.warning("re-submitted the saved state of %d campaign(s) to Temporal", count)
        except Exception:
            log.exception("reconciling campaigns failed; retrying in %ss", interval)


async def main(settings: Settings) -> None:
    client = await Client.connect(
        settings.resolved_temporal_address(),
        namespace=settings.temporal_namespace,
        runtime=sdk_runtime(settings.worker_metrics_host, settings.temporal_metrics_port),
    )
    owner = settings.worker_id or f"{socket.gethostname()}:{os.getpid()}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with running_worker(
        client,
        settings.resolved_database_url(),
        settings.resolved_simulator_url(),
        task_queue=settings.task_queue,
        owner=owner,
        roles=settings.roles(),
        sandboxed=settings.workflow_sandbox,
        max_cached_workflows=settings.workflow_cache,
        max_sends=settings.max_sends_per_execution,
        send_queue_wait=settings.send_queue_wait_seconds,
        metrics_port=settings.worker_metrics_port,
        metrics_host=settings.worker_metrics_host,
    ):
        log.info(
            "worker %s polling task queue %s as %s; metrics on %s:%s, Temporal SDK's on :%s",
            owner,
            settings.task_queue,
            ",".join(settings.roles()),
            settings.worker_metrics_host,
            settings.worker_metrics_port,
            settings.temporal_metrics_port,
        )
        await stop.wait()
        log.info("worker %s draining: polling stopped, in-flight activities finishing", owner)
    log.info("worker %s stopped; its account leases are released", owner)
