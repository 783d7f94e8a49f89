"""The api's read gate: reads beyond the limit queue, then get 503 busy; writes pass."""

from __future__ import annotations

import asyncio
import time

import httpx

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
