"""Bounded concurrency for the api's reads, so that a crowd of readers cannot take the
database and the CPU from the sends (issue 19).

A pure ASGI middleware: a GET on the product's data (campaigns, contacts, executions,
accounts...) takes one of `limit` slots for as long as its handler works, that is
until the response starts (a streamed export holds it only while its first rows are
fetched). Further reads queue in arrival order; one that waited `max_wait` seconds is
answered 503 `busy` with Retry-After. Writes (launch, pause, imports) and the health,
metrics, docs and console paths never wait here.
"""

from __future__ import annotations

import asyncio
import json
import time

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


class ReadGate:
    """Up to `limit` reads at once, the others queued (FIFO, as asyncio.Semaphore)."""

    def __init__(self, app: App, *, limit: int, max_wait: float) -> None:
        self.app = app
        self.limit = limit
        self.max_wait = max_wait
        self._slots = asyncio.Semaphore(limit)
        self.waited = 0  # reads that queued (a gauge of pressure, for tests and metrics)
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith(GATED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        if self._slots.locked():
            self.waited += 1
            began = time.monotonic()
            try:
                await asyncio.wait_for(self._slots.acquire(), self.max_wait)
            except TimeoutError:
                self.refused += 1
                await _busy(send, time.monotonic() - began)
                return
        else:
            await self._slots.acquire()  # a free slot: taken without suspending
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self._slots.release()

        async def send_releasing(message: Message) -> None:
            if message["type"] == "http.response.start":
                release()  # the handler's work is done; the body is only written out
            await send(message)

        try:
            await self.app(scope, receive, send_releasing)
        finally:
            release()


async def _busy(send: Send, waited: float) -> None:
    body = json.dumps(
        {
            "code": "busy",
            "detail": f"The api is answering other reads; waited {waited:.0f} s, retry shortly",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
