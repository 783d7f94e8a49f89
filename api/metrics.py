"""Prometheus metrics of the api: requests by route and status, latency, leads, accounts."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from db.repositories import metrics as repo

# Seconds; the api's answers run from a millisecond (health) to seconds (exports).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ApiMetrics:
    """One registry per app, so two apps in one process (the tests) count apart."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tgflows_api_requests",
            "HTTP requests answered, by method, route template and status code",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tgflows_api_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.executions = Gauge(
            "tgflows_executions",
            "Executions (leads) of live campaigns by status, read at scrape time",
            ["status"],
            registry=self.registry,
        )
        self.accounts = Gauge(
            "tgflows_telegram_accounts",
            "Telegram accounts by health status, read at scrape time",
            ["status"],
            registry=self.registry,
        )


def install_metrics(app: FastAPI) -> None:
    """Count every request and serve GET /metrics (no token: counts, never contact data)."""
    metrics = ApiMetrics()
    app.state.metrics = metrics

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            # The template, not the path: one series per route, not per campaign id.
            route = getattr(request.scope.get("route"), "path", "unmatched")
            metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)
            metrics.requests.labels(request.method, route, str(status)).inc()

    @app.get("/metrics", tags=["health"], include_in_schema=True)
    async def scrape() -> Response:
        """Prometheus text format: requests, latency, executions and accounts by status."""
        async with app.state.sessions() as session:
            executions = await repo.executions_by_status(session)
            accounts = await repo.accounts_by_status(session)
        for gauge, counts in ((metrics.executions, executions), (metrics.accounts, accounts)):
            gauge.clear()
            for status, count in counts.items():
                gauge.labels(status).set(count)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
