"""The pause's baseline: what it costs Temporal alone to tell N running workflows.

Bare workflows sleeping after their two activities are each signalled once, with the
fan-out's concurrency (64 in flight), and each acknowledges when a workflow task
completes after the signal: the floor under any pause that reaches every workflow.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from temporalio.client import Client

from bench.common import start_bare

IN_FLIGHT = 64


async def _acknowledged(client: Client, workflow_id: str) -> tuple[datetime, datetime] | None:
    """When the pause signal reached the server and when a task ran its handler."""
    signalled: datetime | None = None
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("workflow_execution_signaled_event_attributes"):
            signalled = event.event_time.ToDatetime(tzinfo=UTC)
        elif signalled and event.HasField("workflow_task_completed_event_attributes"):
            return signalled, event.event_time.ToDatetime(tzinfo=UTC)
    return None


async def bare_pause(
    client: Client,
    queue: str,
    count: int,
    label: str,
    tag: int,
    settled: Callable[[], Awaitable[None]],
    timeout: float = 1800,
) -> dict[str, float]:
    """Start `count` sleeping bare workflows, signal each, and time the acknowledgements
    (seconds after the first signal call). `settled` returns once the worker and the
    server are quiet again: the histories are read only then, so that reading them does
    not compete with the tasks it times."""
    await start_bare(client, queue, count, 3600, label, tag)
    ids = [f"bare-{label}-{i}" for i in range(count)]

    async def asleep(workflow_id: str) -> bool:
        # Its two activities done and the timer started: as a paused lead, it waits.
        async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
            if event.HasField("timer_started_event_attributes"):
                return True
        return False

    while not all(await asyncio.gather(*(asleep(i) for i in ids[-50:]))):
        await asyncio.sleep(1)
    gate = asyncio.Semaphore(IN_FLIGHT)
    began_at = datetime.now(UTC)
    began = time.perf_counter()

    async def signal(workflow_id: str) -> None:
        async with gate:
            await client.get_workflow_handle(workflow_id).signal("pause")

    await asyncio.gather(*(signal(i) for i in ids))
    signals_s = time.perf_counter() - began
    await settled()
    read = asyncio.Semaphore(10)
    acked: dict[str, tuple[datetime, datetime]] = {}
    while len(acked) < count and time.perf_counter() - began < timeout:

        async def one(workflow_id: str) -> None:
            async with read:
                found = await _acknowledged(client, workflow_id)
            if found:
                acked[workflow_id] = found

        await asyncio.gather(*(one(i) for i in ids if i not in acked))
        if len(acked) < count:
            await settled()
    delivered = sorted((s - began_at).total_seconds() for s, _ in acked.values())
    done = sorted((a - began_at).total_seconds() for _, a in acked.values())
    return {
        "workflows": count,
        "signal_calls_s": signals_s,
        "signal_max_s": delivered[-1] if delivered else float("nan"),
        "acked_p50_s": done[len(done) // 2] if done else float("nan"),
        "acked_max_s": done[-1] if done else float("nan"),
        "not_acknowledged": count - len(acked),
    }
