"""The chaos scenario: a campaign runs while its worker process is SIGKILLed and restarted.

The worker is `tgflows worker` in a process of its own; Temporal, PostgreSQL and the
simulator are processes too (the test session's). What a lead received is counted in
the simulator's per-peer log, which deduplicates by random_id as Telegram does: a
duplicate there is a second planned send (a new generation), never a retried call.
Shared by the small test (tests/test_chaos.py) and the benchmark (bench/test_chaos.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, insert, select
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client
from temporalio.service import RPCError

from api.app import create_app
from db.models import CampaignFlow, Contact, FlowExecution, Message, TelegramAccount
from db.models.executions import TERMINAL
from db.session import SessionFactory
from db.settings import Settings
from tests.chaos_repliers import Repliers
from tests.conftest import Caller
from tests.processes import TGFLOWS, wait_for_poller, worker_env
from workflows.types import control_workflow_id

# The campaign: send, wait two seconds, send again.
SEND_DELAY_SEND = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "one", "type": "send_message", "data": {"text": "one {first_name}"}},
        {"id": "gap", "type": "delay", "data": {"seconds": 2}},
        {"id": "two", "type": "send_message", "data": {"text": "two"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "one"},
        {"source": "one", "target": "gap"},
        {"source": "gap", "target": "two"},
        {"source": "two", "target": "end"},
    ],
}


class KillableWorker:
    """`tgflows worker` that can be SIGKILLed and started again, as a crash would."""

    def __init__(self, client: Client, queue: str, env: Mapping[str, str]) -> None:
        self._client = client
        self._queue = queue
        self._env = {**os.environ, **env}
        self._child: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="tgflows-chaos-", suffix=".log", delete=False
        )
        self.kills = 0

    async def start(self) -> None:
        self._child = subprocess.Popen(
            [TGFLOWS, "worker"],
            env=self._env,
            start_new_session=True,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        await wait_for_poller(self._client, self._queue)

    async def kill(self) -> None:
        assert self._child is not None
        os.killpg(self._child.pid, signal.SIGKILL)
        await asyncio.to_thread(self._child.wait)
        self._child = None
        self.kills += 1

    async def stop(self) -> None:
        if self._child is not None:
            self._child.send_signal(signal.SIGINT)
            try:
                await asyncio.to_thread(self._child.wait, 20)
            except subprocess.TimeoutExpired:
                os.killpg(self._child.pid, signal.SIGKILL)
                await asyncio.to_thread(self._child.wait)
            self._child = None
        self._log.close()


@dataclass
class Outcome:
    """What the leads got, counted in the simulator, and how the campaign ended."""

    leads: int
    duplicates: int
    missing: int
    not_final: int
    seconds: float
    # When the sends every run makes were made (all but the repliers' second messages).
    all_sent_seconds: float | None
    kills: int
    restarted: list[str]
    campaign_status: str
    examples: list[str] = field(default_factory=list)
    # Leads who replied during the chaos, their replies recorded, and follow-ups that
    # reached one of them after its reply was recorded (must be none).
    replies: int = 0
    replies_recorded: int = 0
    late_follow_ups: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def api_for(
    queue: str, database_url: str, sessions: SessionFactory, client: Client, caller: Caller
) -> AsyncIterator[Caller]:
    """The caller, speaking to an api whose campaigns run on this queue's workers."""
    app = create_app(Settings(DATABASE_URL=database_url, TGFLOWS_TASK_QUEUE=queue))
    app.state.sessions = sessions
    app.state.temporal = client
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api", timeout=60
    ) as http:
        yield Caller(http, caller.token, caller.user_id, caller.org_id)


async def campaign_of(
    sessions: SessionFactory, *, user_id: int, leads: int, flow: dict[str, Any]
) -> tuple[int, list[tuple[str, str]]]:
    """A draft campaign with `leads` pending executions: (id, [(peer, first name)])."""
    tag = secrets.token_hex(3)
    people = [(f"c{tag}_{i}", f"N{i}") for i in range(leads)]
    async with sessions.begin() as session:
        account = TelegramAccount(
            user_id=user_id, provider="simulator", phone=f"+7{secrets.randbelow(10**10):010d}"
        )
        session.add(account)
        await session.flush()
        contact_ids = list(
            await session.scalars(
                insert(Contact).returning(Contact.id),
                [{"user_id": user_id, "username": u, "first_name": n} for u, n in people],
            )
        )
        campaign = CampaignFlow(
            name=f"chaos {tag}",
            status="draft",
            enabled=True,
            telegram_account_id=account.id,
            timezone="UTC",
            flow=flow,
            created_by=user_id,
        )
        session.add(campaign)
        await session.flush()
        await session.execute(
            insert(FlowExecution),
            [{"campaign_id": campaign.id, "contact_id": cid} for cid in contact_ids],
        )
        return campaign.id, people


async def fanout_starting(client: Client, campaign_id: int) -> bool:
    """Is a fan-out page of the campaign starting workflows right now? It heartbeats
    once it has started its first: the moment a crash leaves a page half done."""
    try:
        described = await client.get_workflow_handle(control_workflow_id(campaign_id)).describe()
    except RPCError:
        return False
    return any(
        a.activity_type.name == "fanout_page"
        and a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        and a.HasField("last_heartbeat_time")
        for a in described.raw_description.pending_activities
    )


async def sent_count(sessions: SessionFactory, campaign_id: int) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.campaign_id == campaign_id, Message.status == "sent")
            )
            or 0
        )


async def settled(sessions: SessionFactory, campaign_id: int) -> tuple[bool, int, str]:
    """(done, executions not final, campaign status): done once every execution ended,
    the campaign's last operation was carried out and the campaign completed."""
    async with sessions() as session:
        campaign = (
            await session.execute(
                select(
                    CampaignFlow.status, CampaignFlow.control_seq, CampaignFlow.applied_seq
                ).where(CampaignFlow.id == campaign_id)
            )
        ).one()
        open_count = int(
            await session.scalar(
                select(func.count())
                .select_from(FlowExecution)
                .where(
                    FlowExecution.campaign_id == campaign_id,
                    FlowExecution.status.not_in(TERMINAL),
                )
            )
            or 0
        )
    status, control_seq, applied_seq = campaign
    done = open_count == 0 and applied_seq >= control_seq and status == "completed"
    return done, open_count, str(status)


async def count_received(
    sim: httpx.AsyncClient,
    people: list[tuple[str, str]],
    expected: Callable[[str], list[str]],
    repliers: frozenset[str] = frozenset(),
) -> tuple[int, int, list[str]]:
    """(duplicates, missing, examples) over every lead's messages in the simulator. A
    lead who replied got the first message and at most once each of the others."""
    duplicates = missing = 0
    examples: list[str] = []
    for peer, first_name in people:
        got = Counter(m["text"] for m in (await sim.get(f"/peers/{peer}/messages")).json()["items"])
        want = Counter(expected(first_name))
        if peer in repliers:
            want = Counter({text: n for text, n in want.items() if text in got}) or want
        extra = sum((got - want).values())
        lacking = sum((want - got).values())
        duplicates += extra
        missing += lacking
        if (extra or lacking) and len(examples) < 5:
            examples.append(f"{peer}: {dict(got)}")
    return duplicates, missing, examples


async def until(
    check: Callable[[], Awaitable[bool]], deadline: float, interval: float = 0.02
) -> bool:
    """Poll until check() holds or the monotonic deadline passes; whether it held."""
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(interval)
    return False


async def run_chaos(
    *,
    caller: Caller,
    sessions: SessionFactory,
    client: Client,
    sim: httpx.AsyncClient,
    database_url: str,
    leads: int,
    kills: int,
    seed: int,
    timeout: float = 240,
    flow: dict[str, Any] = SEND_DELAY_SEND,
    restarts: Mapping[str, Callable[[], Awaitable[None]]] | None = None,
    repliers: int = 0,
) -> Outcome:
    """Launch a campaign, SIGKILL its worker `kills` times (first during the launch's
    fan-out, then while sends happen), restart it each time, and count what leads got.

    `restarts` names services (Temporal, PostgreSQL) restarted once each, at a random
    point of the sends, while the worker keeps running and must reconnect.

    `repliers` leads answer at random moments after their first message, kills or not
    (run it on a stack of its own: another worker on the same database would lease the
    account and listen on its own simulator)."""
    rng = random.Random(seed)
    queue = f"chaos-{secrets.token_hex(4)}"
    cid, people = await campaign_of(sessions, user_id=caller.user_id, leads=leads, flow=flow)
    async with sessions() as session:
        phone = await session.scalar(
            select(TelegramAccount.phone)
            .join(CampaignFlow, CampaignFlow.telegram_account_id == TelegramAccount.id)
            .where(CampaignFlow.id == cid)
        )
    assert phone is not None
    answering = Repliers(sim, phone, [p for p, _ in rng.sample(people, repliers)], rng)
    worker = KillableWorker(
        client,
        queue,
        worker_env(client, database_url=database_url, simulator_url=str(sim.base_url), queue=queue),
    )
    await worker.start()
    restarted: list[str] = []
    replying = asyncio.create_task(answering.run())
    try:
        async with api_for(queue, database_url, sessions, client, caller) as chaos_api:
            began = time.monotonic()
            deadline = began + timeout
            await chaos_api.ok("post", f"/campaign-flows/{cid}/launch")
            # After the first kill, the others and the restarts at random points of the
            # campaign's sends: among those that always happen (a lead that replies
            # before its second message never gets it), or the wait for an unreachable
            # count would run out the timeout and the rest would strike a finished run.
            last = 2 * leads - repliers - 1
            events = sorted(
                [(rng.randint(1, last), "worker") for _ in range(kills - 1)]
                + [(rng.randint(1, last), name) for name in sorted(restarts or {})]
            )
            if kills:
                # During the launch's fan-out: a page under way when the worker dies.
                await until(lambda: fanout_starting(client, cid), deadline, interval=0.01)
                await worker.kill()
                await asyncio.sleep(rng.uniform(0, 1.0))
                await worker.start()
            for target, what in events:

                async def reached(target: int = target) -> bool:
                    return await sent_count(sessions, cid) >= target

                assert await until(reached, deadline, interval=0.05), (
                    f"{await sent_count(sessions, cid)} sends, {target} never reached"
                )
                if what == "worker":
                    await worker.kill()
                    await asyncio.sleep(rng.uniform(0, 1.0))
                    await worker.start()
                else:
                    await (restarts or {})[what]()
                    restarted.append(what)

            all_sent: list[float] = []

            async def done() -> bool:
                if not all_sent and await sent_count(sessions, cid) > last:
                    all_sent.append(time.monotonic() - began)
                return (await settled(sessions, cid))[0]

            await until(done, deadline, interval=0.25)
            seconds = time.monotonic() - began
            # Replies to leads that already finished are recorded all the same.
            await until(lambda: answering.all_recorded(sessions, cid), deadline, interval=0.25)
    finally:
        replying.cancel()
        await worker.stop()
    _, not_final, status = await settled(sessions, cid)
    duplicates, missing, examples = await count_received(
        sim, people, lambda name: [f"one {name}", "two"], frozenset(answering.peers)
    )
    recorded, late = await answering.check(sessions, cid)
    return Outcome(
        leads=leads,
        duplicates=duplicates,
        missing=missing,
        not_final=not_final,
        seconds=seconds,
        all_sent_seconds=all_sent[0] if all_sent else None,
        kills=worker.kills,
        restarted=restarted,
        campaign_status=status,
        examples=examples,
        replies=len(answering.replied),
        replies_recorded=recorded,
        late_follow_ups=late,
    )
