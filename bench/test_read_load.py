"""API reads do not starve sending (issue 19, item 5).

A campaign sends as fast as the worker can (no interval on its account, each lead a
chain of BENCH_READ_CHAIN (40) messages, so that once the launch is over the sends go on
without new workflows) while the api runs as its own process, as deployed. Its send rate
is measured in three phases of one run: quiet, then `READERS` clients reading lists,
statistics and logs in a loop for `SECONDS`, then quiet again; the ratio compares the
loaded phase with the mean of the two quiet ones (which also cancels the drift of a long
campaign). It also says the cores each program of the run used in each phase and the
reads' share of them while the readers ran (`read_share`), which other loads on the host
move less. BENCH_READERS, BENCH_READ_SECONDS, BENCH_QUIET_SECONDS and BENCH_READ_LEADS
scale it down; BENCH_READ_TOKENS (1) spreads the readers over that many tokens of the
user, each a caller of its own for the api's per-caller pace (as many users would be).

The `paced` case runs the same phases on a campaign paced as campaigns are in use: it
rotates over BENCH_READ_ACCOUNTS (10) accounts with a minimum interval of
BENCH_READ_INTERVAL (1) seconds each, well below what the host can send, and says how
much of the allowed rate it used in each phase (`use_*`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from temporalio.testing import WorkflowEnvironment

from api.identity.service import issue_token
from bench.common import bulk_campaign, report
from bench.cpu import tree_cpu
from bench.processes import simulator_process, worker_process
from db.models import FlowExecution, Message, User
from db.session import SessionFactory
from tests.conftest import Caller, eventually, free_port
from tests.processes import TGFLOWS, process

pytestmark = pytest.mark.slow
QUEUE = "bench-reads"
READERS = int(os.environ.get("BENCH_READERS", "50"))
SECONDS = float(os.environ.get("BENCH_READ_SECONDS", "60"))
QUIET = float(os.environ.get("BENCH_QUIET_SECONDS", "30"))
LEADS = int(os.environ.get("BENCH_READ_LEADS", "1000"))
CHAIN = int(os.environ.get("BENCH_READ_CHAIN", "40"))
TOKENS = int(os.environ.get("BENCH_READ_TOKENS", "1"))
WARM = 200  # sends before the first phase
ACCOUNTS = int(os.environ.get("BENCH_READ_ACCOUNTS", "10"))
INTERVAL = int(os.environ.get("BENCH_READ_INTERVAL", "1"))


def _chain(n: int) -> dict[str, Any]:
    """start → n messages → end."""
    ids = ["s", *[f"m{i}" for i in range(n)], "e"]
    nodes: list[dict[str, Any]] = [
        {"id": i, "type": "send_message", "data": {"text": "offer {first_name}"}} for i in ids
    ]
    nodes[0], nodes[-1] = {"id": "s", "type": "start"}, {"id": "e", "type": "end"}
    return {
        "nodes": nodes,
        "edges": [{"source": a, "target": b} for a, b in itertools.pairwise(ids)],
    }


@contextlib.asynccontextmanager
async def api_process(database_url: str, temporal: str) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal,
        "TGFLOWS_TASK_QUEUE": QUEUE,
        "TGFLOWS_API_PORT": str(port),
    }
    url = f"http://127.0.0.1:{port}"
    async with process([TGFLOWS, "api"], env) as pid:
        async with httpx.AsyncClient() as http:

            async def up() -> bool:
                with contextlib.suppress(httpx.TransportError):
                    return (await http.get(f"{url}/health/live")).status_code == 200
                return False

            await eventually(up, timeout=60, interval=0.2)
        yield url, pid


async def cpu_snapshot(sessions: SessionFactory, roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of this run's programs: the api, the worker, the simulator,
    Temporal, the readers (this pytest) and PostgreSQL, whose backends serving the api
    count apart (`pg_api`)."""
    async with sessions() as session:
        rows = (
            await session.execute(text("SELECT pid, application_name FROM pg_stat_activity"))
        ).all()
    labels = {int(pid): "pg_api" for pid, name in rows if name == "tgflows-api"}
    backend = int(next(pid for pid, name in rows if pid is not None))
    with open(f"/proc/{backend}/stat") as f:
        raw = f.read()
    postmaster = int(raw[raw.rindex(")") + 2 :].split()[1])
    return tree_cpu({**roots, "postgres": postmaster}, labels)


def _child_pid(program: bytes) -> int:
    """The process this test process started whose command line names `program`."""
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().replace(b"\0", b" ")
            parent = int(raw[raw.rindex(")") + 2 :].split()[1])
            if parent == os.getpid() and program in args:
                return int(entry)
    return 0


def _phase(before: dict[str, float], after: dict[str, float], seconds: float) -> str:
    """Cores used by each program over a phase, as `name:cores,...`."""
    keys = sorted(set(before) | set(after))
    return ",".join(f"{k}:{(after.get(k, 0) - before.get(k, 0)) / seconds:.2f}" for k in keys)


async def sent(sessions: SessionFactory, cid: int) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.campaign_id == cid, Message.status == "sent")
            )
            or 0
        )


async def rate(sessions: SessionFactory, cid: int, seconds: float) -> float:
    before, began = await sent(sessions, cid), time.perf_counter()
    await asyncio.sleep(seconds)
    return (await sent(sessions, cid) - before) / (time.perf_counter() - began)


async def read_loop(
    http: httpx.AsyncClient, headers: dict[str, str], cid: int, until: float, seen: list[float]
) -> dict[int, int]:
    """One console user: the campaigns list, the campaign's statistics, its logs (a page
    and a search) and its contacts, over and over."""
    base = f"/campaign-flows/{cid}"
    reads: list[tuple[str, dict[str, str | int]]] = [
        ("/campaign-flows", {}),
        (f"{base}/statistics", {}),
        (f"{base}/logs", {"limit": 50}),
        (f"{base}/logs", {"search": "offer N1"}),
        (f"{base}/contacts", {"limit": 50}),
        (f"{base}/activities", {}),
    ]
    statuses: dict[int, int] = {}
    while time.perf_counter() < until:
        path, params = random.choice(reads)
        began = time.perf_counter()
        try:
            code = (await http.get(path, params=params, headers=headers)).status_code
        except httpx.TransportError:
            code = 0  # the connection dropped: counted, not fatal to the measure
        seen.append(time.perf_counter() - began)
        statuses[code] = statuses.get(code, 0) + 1
    return statuses


@pytest.mark.parametrize("paced", [False, True], ids=["flat_out", "paced"])
async def test_reads_do_not_starve_sending(
    make_user: Any,
    sessions: SessionFactory,
    temporal_env: WorkflowEnvironment,
    database_url: str,
    paced: bool,
) -> None:
    client = temporal_env.client
    caller: Caller = await make_user()
    allowed = ACCOUNTS / INTERVAL if paced else 0.0
    # The whole launch is over before the first phase, so the fan-out's work is not
    # measured with the sends: flat out, each lead sends a chain of messages; paced, one
    # each, and enough leads for the run's phases and no more.
    leads = int(allowed * (2 * QUIET + SECONDS + 60)) + 2 * WARM if paced else LEADS
    chain = 1 if paced else CHAIN
    cid, _ = await bulk_campaign(
        sessions,
        user_id=caller.user_id,
        count=leads,
        flow=_chain(chain),
        account={"min_interval_seconds": INTERVAL} if paced else None,
        accounts=ACCOUNTS if paced else 1,
    )
    async with (
        simulator_process() as simulator_url,
        worker_process(
            client, database_url=database_url, simulator_url=simulator_url, queue=QUEUE
        ) as worker_pid,
        api_process(database_url, client.service_client.config.target_host) as (api_url, api_pid),
        httpx.AsyncClient(
            base_url=api_url, timeout=120, limits=httpx.Limits(max_connections=READERS + 5)
        ) as http,
    ):
        headers = caller.headers()
        callers = [headers, *[await _another_token(sessions, caller) for _ in range(TOKENS - 1)]]
        launched = await http.post(f"/campaign-flows/{cid}/launch", headers=headers)
        assert launched.status_code < 300, launched.text
        # Past the start: connections made, first workflows cached.
        await eventually(lambda: _at_least(sessions, cid, WARM), timeout=600, interval=1)
        await eventually(lambda: _all_started(sessions, cid), timeout=900, interval=1)
        roots = {
            "readers": os.getpid(),
            "api": api_pid,
            "worker": worker_pid,
            "temporal": _child_pid(b"temporal server"),
            "simulator": _child_pid(b"tgflows simulator"),
        }
        cpu0 = await cpu_snapshot(sessions, roots)
        quiet_before = await rate(sessions, cid, QUIET)
        cpu1 = await cpu_snapshot(sessions, roots)
        latencies: list[float] = []
        until = time.perf_counter() + SECONDS
        readers = [
            asyncio.create_task(read_loop(http, callers[i % TOKENS], cid, until, latencies))
            for i in range(READERS)
        ]
        loaded = await rate(sessions, cid, SECONDS)
        cpu2 = await cpu_snapshot(sessions, roots)
        statuses: dict[int, int] = {}
        for done in await asyncio.gather(*readers):
            for code, n in done.items():
                statuses[code] = statuses.get(code, 0) + n
        quiet_after = await rate(sessions, cid, QUIET)
        cpu3 = await cpu_snapshot(sessions, roots)
        total = await sent(sessions, cid)
        await http.post(f"/campaign-flows/{cid}/stop", headers=headers)
    quiet = (quiet_before + quiet_after) / 2
    # Cores of the reads (the api, its backends, the readers' own client) and of the
    # sends (worker, Temporal, the other backends) while the readers ran: on a host
    # shared with other loads, the drop also moves with theirs; this share does less.
    used = {k: (cpu2.get(k, 0) - cpu1.get(k, 0)) / SECONDS for k in cpu2}
    read_cores = used["api"] + used["pg_api"] + used["readers"]
    send_cores = used["worker"] + used["temporal"] + used["postgres"] + used["simulator"]
    latencies.sort()
    reads = len(latencies)
    pace = {}
    if paced:
        pace = {
            "accounts": ACCOUNTS,
            "interval_s": INTERVAL,
            "allowed_per_s": allowed,
            "use_quiet": quiet / allowed,
            "use_with_reads": loaded / allowed,
        }
    report(
        "reads_vs_paced_sending" if paced else "reads_vs_sending",
        readers=READERS,
        tokens=TOKENS,
        read_seconds=SECONDS,
        sends_per_s_quiet_before=quiet_before,
        sends_per_s_quiet_after=quiet_after,
        sends_per_s_with_reads=loaded,
        drop=1 - loaded / quiet,
        reads=reads,
        reads_per_s=reads / SECONDS,
        read_p50_ms=1000 * latencies[reads // 2] if reads else 0.0,
        read_p95_ms=1000 * latencies[int(reads * 0.95)] if reads else 0.0,
        read_cores=read_cores,
        send_cores=send_cores,
        read_share=read_cores / (read_cores + send_cores),
        cores_quiet=_phase(cpu0, cpu1, QUIET),
        cores_reads=_phase(cpu1, cpu2, SECONDS),
        cores_quiet_after=_phase(cpu2, cpu3, QUIET),
        statuses=",".join(f"{k}:{v}" for k, v in sorted(statuses.items())),
        sent_total=total,
        leads=leads,
        **pace,
        target="drop<=0.10",
    )
    assert total < leads * chain, "the campaign ran out of sends during the measure: raise LEADS"


async def _another_token(sessions: SessionFactory, caller: Caller) -> dict[str, str]:
    """Headers with a new token of the caller's user: another caller for the pace."""
    async with sessions.begin() as session:
        user = await session.get(User, caller.user_id)
        assert user is not None
        _, token = await issue_token(session, user)
    return {**caller.headers(), "Authorization": f"Bearer {token}"}


async def _all_started(sessions: SessionFactory, cid: int) -> bool:
    """The launch's fan-out is over: no lead is still waiting for its workflow."""
    async with sessions() as session:
        pending = await session.scalar(
            select(func.count())
            .select_from(FlowExecution)
            .where(FlowExecution.campaign_id == cid, FlowExecution.status == "pending")
        )
    return not pending


async def _at_least(sessions: SessionFactory, cid: int, n: int) -> bool:
    return await sent(sessions, cid) >= n
