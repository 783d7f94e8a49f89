"""The worker's own HTTP port: Prometheus metrics, liveness and readiness."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Mapping
from datetime import timedelta

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from temporalio.client import Client
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.worker import Worker

from activities.metrics import StateGauges
from db.repositories import monitoring
from db.session import SessionFactory

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 3.0


class WorkerMonitor:
    """Answers /metrics, /health/live (the process) and /health (it can do its work)."""

    def __init__(
        self,
        sessions: SessionFactory,
        client: Client,
        workers: Mapping[str, Worker],
        *,
        gauge_interval: float = 10.0,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._workers = workers
        self._gauges = StateGauges(sessions, min_interval=gauge_interval)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/health/live", self.live)
        app.router.add_get("/health", self.ready)
        return app

    async def metrics(self, _request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await self._gauges.refresh()
        except Exception as err:  # the counters are still worth serving
            log.warning("refreshing gauges from PostgreSQL failed: %s", type(err).__name__)
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def live(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(self, _request: web.Request) -> web.Response:
        checks = {
            "database": await self._check(self._database()),
            "temporal": await self._check(self._temporal()),
        }
        for queue, worker in self._workers.items():
            running = worker.is_running and not worker.is_shutdown
            checks[f"pollers:{queue}"] = "ok" if running else "not polling"
        ok = all(value == "ok" for value in checks.values())
        return web.json_response(
            {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
        )

    async def _database(self) -> None:
        async with self._sessions() as session:
            await monitoring.ping(session)

    async def _temporal(self) -> None:
        healthy = await self._client.service_client.check_health(
            timeout=timedelta(seconds=CHECK_TIMEOUT)
        )
        if not healthy:
            raise RuntimeError("Temporal frontend reports not serving")

    @staticmethod
    async def _check(probe: Awaitable[None]) -> str:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await probe
        except Exception as err:
            return f"failing: {type(err).__name__}"
        return "ok"


@contextlib.asynccontextmanager
async def serving(app: web.Application, host: str, port: int) -> AsyncIterator[bool]:
    """The app on host:port while inside; yields whether it could bind."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as err:
            # Losing the metrics port must not stop sends.
            log.error("worker metrics port %s:%s unavailable: %s", host, port, err)
            yield False
            return
        yield True
    finally:
        await runner.cleanup()


def sdk_runtime(host: str, port: int) -> Runtime:
    """The Temporal runtime of the worker: the SDK core's log lines forwarded to Python
    logging (so they come out as JSON lines too), its metrics in Prometheus format on
    port (0: none)."""
    logs = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
    )
    if port:
        try:
            metrics = PrometheusConfig(bind_address=f"{host}:{port}")
            return Runtime(telemetry=TelemetryConfig(logging=logs, metrics=metrics))
        except Exception as err:
            log.error("Temporal SDK metrics port %s:%s unavailable: %s", host, port, err)
    return Runtime(telemetry=TelemetryConfig(logging=logs))
