"""The api's read gate: reads beyond the limit or the CPU budget queue, then get 503 busy;
writes pass."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import httpx

from api.cpubudget import CpuBudget
from api.middleware import Receive, Scope, Send
from api.readgate import ReadGate


class Held:
    """An app whose reads (GETs but the health check) wait until released."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        if scope["method"] == "GET" and scope["path"] != "/health/live":
            await self.release.wait()
        self.inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def test_reads_beyond_the_limit_wait_in_turn_and_writes_do_not() -> None:
    held = Held()
    gate = ReadGate(held, limit=2, max_wait=30)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gate), base_url="http://t") as c:
        reads = [asyncio.create_task(c.get("/campaign-flows/1/logs")) for _ in range(5)]
        while held.inside < 2 or gate.waited < 3:
            await asyncio.sleep(0.01)
        # A write and an ungated path go through while the reads are held.
        assert (await c.post("/campaign-flows/1/pause")).status_code == 200
        held.release.set()
        assert [r.status_code for r in await asyncio.gather(*reads)] == [200] * 5
    assert held.most == 3  # two reads and the write, never a third read
    assert gate.waited == 3 and gate.refused == 0


async def test_a_read_that_waits_too_long_is_answered_busy() -> None:
    held = Held()
    gate = ReadGate(held, limit=1, max_wait=0.2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gate), base_url="http://t") as c:
        first = asyncio.create_task(c.get("/contacts"))
        while held.inside < 1:
            await asyncio.sleep(0.01)
        refused = await c.get("/contacts")
        assert refused.status_code == 503
        assert refused.json()["code"] == "busy"
        assert refused.headers["retry-after"] == "1"
        assert (await c.get("/health/live")).status_code == 200  # not gated
        held.release.set()
        assert (await first).status_code == 200
    assert gate.refused == 1


async def test_reads_beyond_a_callers_pace_wait_their_turn_and_others_do_not() -> None:
    held = Held()
    held.release.set()
    gate = ReadGate(held, limit=10, max_wait=30, rate=10, burst=2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gate), base_url="http://t") as c:
        one = {"Authorization": "Bearer one"}
        began = time.monotonic()
        answers = await asyncio.gather(*(c.get("/contacts", headers=one) for _ in range(4)))
        took = time.monotonic() - began
        assert [a.status_code for a in answers] == [200] * 4
        # Two at once (the burst), then one every 0.1 s: the fourth waited 0.2 s.
        assert 0.18 <= took < 1.5
        assert gate.paced == 2
        # Another credential has its own pace; writes are never paced.
        other = await c.get("/contacts", headers={"Authorization": "Bearer two"})
        assert other.status_code == 200
        assert (await c.post("/campaign-flows/1/pause", headers=one)).status_code == 200
    assert gate.paced == 2 and gate.limited == 0


async def test_a_read_whose_turn_is_too_far_is_answered_429_with_retry_after() -> None:
    held = Held()
    held.release.set()
    gate = ReadGate(held, limit=10, max_wait=30, rate=0.2, burst=1, max_pace_wait=1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gate), base_url="http://t") as c:
        one = {"Authorization": "Bearer one"}
        assert (await c.get("/campaign-flows", headers=one)).status_code == 200
        refused = await c.get("/campaign-flows", headers=one)
        assert refused.status_code == 429
        assert refused.json()["code"] == "too_many_requests"
        # Its turn is 5 s away, a second of which it could have waited.
        assert refused.headers["retry-after"] == "4"
        assert (await c.get("/health/live", headers=one)).status_code == 200  # not gated
    assert gate.limited == 1 and gate.paced == 0


class Busy:
    """An app whose every request burns `cpu` seconds of this process's CPU, as a read
    does in the api, under an app state holding the read budget."""

    def __init__(self, cpu: float, budget: CpuBudget) -> None:
        self.cpu = cpu
        self.state = SimpleNamespace(read_budget=budget)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        end = time.process_time() + self.cpu
        while time.process_time() < end:
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def with_app(app: Busy, inner: ReadGate) -> Any:
    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        await inner({**scope, "app": app}, receive, send)

    return asgi


async def test_reads_of_all_callers_together_stay_within_the_cpu_budget() -> None:
    busy = Busy(0.01, CpuBudget(cores=0.02, burst=0.01))
    gate = ReadGate(busy, limit=10, max_wait=30, rate=10, burst=20)
    transport = httpx.ASGITransport(app=with_app(busy, gate))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        began = time.monotonic()
        # Six callers, each well within its own pace: 0.06 s of CPU in all.
        answers = await asyncio.gather(
            *(c.get("/contacts", headers={"Authorization": f"Bearer {i}"}) for i in range(6))
        )
        took = time.monotonic() - began
        assert [a.status_code for a in answers] == [200] * 6
        # 0.04 s of CPU beyond the burst before the last one starts, paid back at 0.02
        # core (less on a busy host, where the reads themselves take longer).
        assert took >= 1.5
        assert gate.waited >= 3 and gate.paced == 0
        # The budget is overspent again: a write still goes through at once.
        began = time.monotonic()
        assert (await c.post("/campaign-flows/1/pause")).status_code == 200
        assert time.monotonic() - began < 1


async def test_a_read_the_budget_cannot_start_in_time_is_answered_busy() -> None:
    busy = Busy(0.05, CpuBudget(cores=0.01, burst=0.01))
    gate = ReadGate(busy, limit=2, max_wait=0.5)
    transport = httpx.ASGITransport(app=with_app(busy, gate))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.get("/contacts")).status_code == 200  # spends 4 s of the budget
        refused = await c.get("/contacts")
        assert refused.status_code == 503 and refused.json()["code"] == "busy"
        assert (await c.get("/health/live")).status_code == 200  # not gated
    assert gate.refused == 1


async def test_cpu_spent_outside_reads_does_not_hold_them_back() -> None:
    busy = Busy(0.02, CpuBudget(cores=0.1, burst=0.05))
    gate = ReadGate(busy, limit=2, max_wait=30)
    transport = httpx.ASGITransport(app=with_app(busy, gate))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        for _ in range(5):  # 0.1 s of CPU in writes: twice the budget's burst
            assert (await c.post("/contacts")).status_code == 200
        began = time.monotonic()
        assert (await c.get("/contacts")).status_code == 200
        assert time.monotonic() - began < 1
    assert gate.waited == 0
