"""Request metrics, access lines and log context for the api; `GET /metrics`."""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db import telemetry

REQUESTS = Counter(
    "tgflows_http_requests",
    "api requests by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "tgflows_http_request_duration_seconds",
    "api request latency by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Unknown paths share one label, so a scanner cannot grow the series without bound.
UNMATCHED = "<unmatched>"
# Path parameters that are ids worth carrying on every log line of the request.
PATH_IDS = {"campaign_id": "campaign_id", "account_id": "account_id"}
QUIET_ROUTES = ("/metrics", "/health", "/health/live")
access = logging.getLogger("api.access")


def route_of(scope: Scope) -> str:
    """The template of the route that handled the request (set in the scope by routing)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else UNMATCHED


def ids_of(scope: Scope) -> dict[str, object]:
    """The ids among the request's path parameters (set in the scope by routing)."""
    return {
        PATH_IDS[k]: int(v) if str(v).isdigit() else v
        for k, v in scope.get("path_params", {}).items()
        if k in PATH_IDS
    }


class RequestObserver:
    """Pure ASGI, outermost: times the whole request, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            route = route_of(scope)
            method = str(scope["method"])
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
            # The template, never the raw path or query: those carry names and search terms.
            with telemetry.bound(route=route, **ids_of(scope)):
                access.log(level, "%s %s %d %.1fms", method, route, status, elapsed * 1000)


def install_metrics(app: FastAPI) -> None:
    """Observe every request and serve `GET /metrics` in Prometheus' text format."""
    app.add_middleware(RequestObserver)

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus metrics of this api process."""
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
