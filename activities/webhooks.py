"""Webhook deliveries: the activities of WebhookStreamWorkflow and the dispatcher that
starts a stream's workflow when the outbox has new events for it.

Every request is signed (docs/webhooks.md): `X-Tgflows-Signature: t=<unix>,v1=<hex>`,
the HMAC-SHA256 of "<t>.<body>" keyed by the webhook's secret. The secret is decrypted
only here, for signing, and never logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from datetime import datetime

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from db.models import WebhookDelivery
from db.repositories import webhooks as repo
from db.secrets import decrypt
from db.session import SessionFactory
from db.settings import Settings
from db.vocabulary import DeliveryStatus
from db.webhook_urls import RefusedUrl, check_addresses, check_url
from workflows.webhook_types import (
    GONE,
    POKE_SIGNAL,
    WEBHOOK_WORKFLOW,
    DeliverRequest,
    PendingQuery,
    StreamInput,
    stream_workflow_id,
    webhook_task_queue,
)

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Tgflows-Signature"
# Every pending stream is poked again this often, whatever the dispatcher remembers.
RESWEEP_SECONDS = 60.0


def body_of(delivery: WebhookDelivery) -> bytes:
    """The request body: the same bytes on every attempt and redelivery."""
    event = {
        "id": delivery.event_id,
        "type": delivery.event_type,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for one request."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class CheckedResolver(AbstractResolver):
    """Resolves as usual, then refuses any address webhooks may not reach: the check
    runs on the very addresses the connection uses (no DNS rebinding in between)."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        addresses = [ipaddress.ip_address(r["host"].split("%")[0]) for r in found]
        check_addresses(host, addresses, allow_private=self._allow_private)
        return found

    async def close(self) -> None:
        await self._inner.close()


class WebhookActivities:
    def __init__(self, sessions: SessionFactory, *, allow_private: bool) -> None:
        self._sessions = sessions
        self._allow_private = allow_private

    @activity.defn(name="webhook_pending")
    async def pending(self, query: PendingQuery) -> list[int]:
        async with self._sessions() as session:
            return await repo.next_pending(
                session, query.webhook_id, query.campaign_id, query.limit
            )

    @activity.defn(name="webhook_give_up")
    async def give_up(self, delivery_id: int) -> None:
        async with self._sessions.begin() as session:
            await repo.finish(session, [delivery_id], DeliveryStatus.FAILED)

    @activity.defn(name="webhook_deliver")
    async def deliver(self, req: DeliverRequest) -> None:
        """One attempt; raises (so Temporal retries with backoff) unless the receiver
        answered 2xx. Each attempt is recorded with its status and duration."""
        async with self._sessions() as session:
            found = await repo.for_delivery(session, req.delivery_id)
        if found is None:
            raise ApplicationError("delivery not found", type=GONE, non_retryable=True)
        delivery, webhook = found
        if delivery.status != DeliveryStatus.PENDING:
            return  # an earlier attempt got through and only its answer was lost
        if webhook.deleted_at is not None:
            await self.give_up(delivery.id)
            return
        body = body_of(delivery)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "tgflows-webhooks/1",
            "X-Tgflows-Event-Id": delivery.event_id,
            "X-Tgflows-Event-Type": delivery.event_type,
            SIGNATURE_HEADER: signature(decrypt(webhook.secret_encrypted), timestamp, body),
        }
        started = time.monotonic()
        status, error = await self.post(webhook.url, body, headers, req.timeout_seconds)
        ok = status is not None and 200 <= status < 300
        async with self._sessions.begin() as session:
            await repo.record_attempt(
                session,
                delivery,
                duration_ms=int((time.monotonic() - started) * 1000),
                response_status=status,
                error=error,
                delivered=ok,
            )
        if not ok:
            raise ApplicationError(error or f"receiver answered HTTP {status}")

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int | None, str | None]:
        """One HTTP attempt: the receiver's status, or why there was none."""
        try:
            # An address literal never reaches the resolver: checked here first.
            await check_url(url, allow_private=self._allow_private)
            connector = aiohttp.TCPConnector(
                resolver=CheckedResolver(self._allow_private), use_dns_cache=False
            )
            async with (
                aiohttp.ClientSession(
                    connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
                ) as http,
                http.post(url, data=body, headers=headers, allow_redirects=False) as resp,
            ):
                await resp.content.read(64 * 1024)
                return resp.status, None
        except RefusedUrl as err:
            return None, str(err)
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            return None, f"{type(err).__name__}: {err}"[:500]


class WebhookDispatcher:
    """Signals-with-start the delivery workflow of every stream with new pending rows.

    The outbox is read every `poll` seconds (a partial index keeps it cheap); a stream
    is poked when its work changes (a newer pending row, or a redelivery: the row put
    back may be the one that was newest when the stream was last poked), and every
    pending stream again each RESWEEP_SECONDS, so nothing waits on a lost signal or a
    worker restart.
    """

    def __init__(
        self, sessions: SessionFactory, client: Client, task_queue: str, settings: Settings
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._task_queue = webhook_task_queue(task_queue)
        self._settings = settings
        # stream -> (its work marker when last poked, when)
        self._seen: dict[tuple[int, int], tuple[tuple[int, datetime | None], float]] = {}

    def stream_input(self, webhook_id: int, campaign_id: int) -> StreamInput:
        s = self._settings
        return StreamInput(
            webhook_id=webhook_id,
            campaign_id=campaign_id,
            initial_seconds=s.webhook_retry_initial_seconds,
            max_seconds=s.webhook_retry_max_seconds,
            retry_seconds=s.webhook_retry_hours * 3600,
            timeout_seconds=s.webhook_timeout_seconds,
        )

    async def poke_new(self) -> int:
        async with self._sessions() as session:
            streams = await repo.pending_streams(session)
        now = asyncio.get_running_loop().time()
        poked = 0
        live = set()
        for stream in streams:
            key = (stream.webhook_id, stream.campaign_id)
            live.add(key)
            marker = (stream.newest, stream.requeued)
            seen = self._seen.get(key)
            if seen and seen[0] == marker and now - seen[1] < RESWEEP_SECONDS:
                continue
            await self._client.start_workflow(
                WEBHOOK_WORKFLOW,
                self.stream_input(*key),
                id=stream_workflow_id(*key),
                task_queue=self._task_queue,
                start_signal=POKE_SIGNAL,
            )
            self._seen[key] = (marker, now)
            poked += 1
        for key in set(self._seen) - live:
            del self._seen[key]
        return poked

    async def run(self) -> None:
        while True:
            try:
                await self.poke_new()
            except Exception:
                log.exception("webhook dispatcher failed; retrying")
            await asyncio.sleep(self._settings.webhook_poll_seconds)
