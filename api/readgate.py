"""Paced and bounded reads, so that a crowd of readers cannot take the database and the
CPU from the sends (issue 19).

A pure ASGI middleware. First the pace: each caller (its bearer token, else its console
session cookie, else its address) may make `rate` reads a second on average, `burst` at
once; a read beyond that waits its turn, and one whose turn is more than `max_pace_wait`
seconds away is answered 429 `too_many_requests` with Retry-After at once. On a host the
api shares with the worker, every CPU-second a read takes (in the api, in PostgreSQL, in
the client) is taken from the sends, so the pace, not the cost of one read, is what
bounds the readers' share.

Then the concurrency: a GET on the product's data (campaigns, contacts, executions,
accounts...) takes one of `limit` slots for as long as its handler works, that is until
the response starts (a streamed export holds it only while its first rows are fetched).
Further reads queue in arrival order; one that waited `max_wait` seconds is answered 503
`busy` with Retry-After. With a slot, a read also waits for the api's CPU budget
(api/cpubudget.py), the bound over all callers together, within the same `max_wait`.
Writes (launch, pause, imports) and the health, metrics, docs and console paths never
wait here.
"""

from __future__ import annotations

import asyncio
import json
import math
import time

from api.cpubudget import CpuBudget
from api.middleware import App, Message, Receive, Scope, Send

# The product's read routes start with these; the rest is the console, docs, health.
GATED_PREFIXES = (
    "/campaign-flows",
    "/contacts",
    "/executions",
    "/accounts",
    "/do-not-contact",
    "/reply-rules",
)


class Pace:
    """Reads per caller: `rate` a second on average, `burst` at once (the generic cell
    rate algorithm: each caller's theoretical arrival time, one interval per read)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1 / rate
        self.tolerance = (burst - 1) * self.interval
        self._due: dict[int, float] = {}

    def book(self, caller: int, now: float, max_wait: float) -> float | None:
        """Seconds the read waits for its turn, booked; None if more than max_wait."""
        due = max(self._due.get(caller, now), now)
        wait = max(0.0, due - self.tolerance - now)
        if wait > max_wait:
            return None
        if len(self._due) > 10_000:  # forget callers idle long enough to start afresh
            self._due = {k: v for k, v in self._due.items() if v > now}
        self._due[caller] = due + self.interval
        return wait

    def retry_after(self, caller: int, now: float, max_wait: float) -> int:
        due = self._due.get(caller, now)
        return max(1, math.ceil(due - self.tolerance - now - max_wait))


def caller_key(scope: Scope) -> int:
    """The caller a read counts against: its credential (hashed in memory, never kept),
    else its address."""
    cookie = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            return hash(value)
        if name == b"cookie":
            cookie = value
    if cookie is not None:
        return hash(cookie)
    client = scope.get("client")
    return hash(client[0] if client else "")


class ReadGate:
    """Reads paced per caller (`rate`, `burst`), then up to `limit` at once, the others
    queued (FIFO, as asyncio.Semaphore), each started within the app's CPU budget if it
    has one (`app.state.read_budget`, set where the api is a process of its own)."""

    def __init__(
        self,
        app: App,
        *,
        limit: int,
        max_wait: float,
        rate: float = math.inf,
        burst: int = 1,
        max_pace_wait: float = 30,
    ) -> None:
        self.app = app
        self.limit = limit
        self.max_wait = max_wait
        self._slots = asyncio.Semaphore(limit)
        self._pace = None if math.isinf(rate) else Pace(rate, burst)
        self.max_pace_wait = max_pace_wait
        self.waited = 0  # reads that queued (a gauge of pressure, for tests and metrics)
        self.refused = 0
        self.paced = 0  # reads that waited for their turn
        self.limited = 0  # reads answered 429

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(GATED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        if self._pace is not None:
            caller, now = caller_key(scope), time.monotonic()
            wait = self._pace.book(caller, now, self.max_pace_wait)
            if wait is None:
                self.limited += 1
                retry = self._pace.retry_after(caller, now, self.max_pace_wait)
                await _refuse(send, 429, "too_many_requests", _TOO_MANY.format(retry), retry)
                return
            if wait > 0:
                self.paced += 1
                await asyncio.sleep(wait)
        began = time.monotonic()
        if self._slots.locked():
            self.waited += 1
            try:
                await asyncio.wait_for(self._slots.acquire(), self.max_wait)
            except TimeoutError:
                await self._busy(send, began)
                return
        else:
            await self._slots.acquire()  # a free slot: taken without suspending
        held, budget = True, _budget(scope)
        counted = False

        def release() -> None:
            nonlocal held, counted
            if counted and budget is not None:
                counted = False
                budget.finished()
            if held:
                held = False
                self._slots.release()

        async def send_releasing(message: Message) -> None:
            if message["type"] == "http.response.start":
                release()  # the handler's work is done; the body is only written out
            await send(message)

        try:
            if budget is not None:
                if budget.owed() > 0:
                    self.waited += 1
                    if not await budget.wait(began + self.max_wait):
                        release()
                        await self._busy(send, began)
                        return
                budget.started()
                counted = True
            await self.app(scope, receive, send_releasing)
        finally:
            release()

    async def _busy(self, send: Send, began: float) -> None:
        self.refused += 1
        await _refuse(send, 503, "busy", _BUSY.format(time.monotonic() - began), 1)


def _budget(scope: Scope) -> CpuBudget | None:
    app = scope.get("app")
    budget = getattr(getattr(app, "state", None), "read_budget", None)
    return budget if isinstance(budget, CpuBudget) else None


_BUSY = "The api is answering other reads; waited {:.0f} s, retry shortly"
_TOO_MANY = "Too many reads with this credential; retry in {} s"


async def _refuse(send: Send, status: int, code: str, detail: str, retry_after: int) -> None:
    body = json.dumps({"code": code, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
