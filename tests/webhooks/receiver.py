"""A webhook receiver for tests: a real HTTP server on loopback that verifies signatures
the way docs/webhooks.md tells receivers to, and can fail its first requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Our port range (tests/webhooks only): 9200-9299.
PORTS = range(9200, 9300)


def verify(secret: str, header: str, body: bytes, tolerance: float = 300) -> bool:
    """The receiver-side check, as documented: recompute the HMAC and compare."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


@dataclass
class Endpoint:
    secret: str = ""
    fail_first: int = 0
    # Events answered 500 whatever the attempt, while set.
    reject: Callable[[dict[str, Any]], bool] | None = None
    requests: int = 0
    # Every request: (status answered, event, signature valid)
    log: list[tuple[int, dict[str, Any], bool]] = field(default_factory=list)

    @property
    def accepted(self) -> list[dict[str, Any]]:
        """Events answered 2xx, in arrival order."""
        return [event for status, event, _ in self.log if status == 200]


@dataclass
class Receiver:
    port: int
    endpoints: dict[str, Endpoint] = field(default_factory=dict)

    def url(self, name: str, fail_first: int = 0) -> str:
        self.endpoints[name] = Endpoint(fail_first=fail_first)
        return f"http://127.0.0.1:{self.port}/{name}"


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 9200-9299")


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver(port=_free_port())

    async def handle(request: web.Request) -> web.Response:
        endpoint = receiver.endpoints[request.match_info["name"]]
        body = await request.read()
        endpoint.requests += 1
        valid = verify(endpoint.secret, request.headers["X-Tgflows-Signature"], body)
        event = json.loads(body)
        rejected = endpoint.reject is not None and endpoint.reject(event)
        status = 500 if rejected or endpoint.requests <= endpoint.fail_first else 200
        assert request.headers["X-Tgflows-Event-Id"] == event["id"]
        endpoint.log.append((status, event, valid))
        return web.Response(status=status, text="ok" if status == 200 else "not yet")

    app = web.Application()
    app.router.add_post("/{name}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", receiver.port)
    await site.start()
    try:
        yield receiver
    finally:
        await runner.cleanup()
