"""/health (readiness: PostgreSQL, Temporal, workers polling) and /health/live."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest
from temporalio.client import Client

from api.deps import get_temporal
from db.repositories import monitoring
from workflows.types import control_task_queue
from workflows.webhook_types import webhook_task_queue

router = APIRouter(tags=["health"])
CHECK_TIMEOUT = 3.0


class Part(BaseModel):
    ok: bool
    detail: str | None = None


class QueuePart(Part):
    workflow_pollers: int = 0
    activity_pollers: int = 0


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    code: str | None = Field(default=None, description="'unavailable' when a part is down")
    detail: str | None = None
    postgresql: Part
    temporal: Part
    task_queues: dict[str, QueuePart] = Field(
        description="Per task queue: whether any worker polls it (workflows and activities)"
    )


class LiveOut(BaseModel):
    status: Literal["ok"] = "ok"


@router.get("/health/live", response_model=LiveOut)
async def live() -> LiveOut:
    """Liveness: the api process runs (nothing else is asked)."""
    return LiveOut()


@router.get(
    "/health",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "A part is down; the body says which"}},
)
async def ready(request: Request) -> JSONResponse:
    """Readiness: PostgreSQL answers, Temporal answers and a worker polls each task queue
    (the leads', the campaigns' control and the webhook deliveries')."""
    database = await _database(request)
    temporal, client = await _temporal(request)
    queue = request.app.state.settings.task_queue
    queues: dict[str, QueuePart] = {}
    for name in (queue, control_task_queue(queue), webhook_task_queue(queue)):
        queues[name] = (
            await _pollers(client, request.app.state.settings.temporal_namespace, name)
            if client is not None
            else QueuePart(ok=False, detail="Temporal is unreachable")
        )
    down = [n for n, p in (("postgresql", database), ("temporal", temporal)) if not p.ok]
    down += [f"workers polling {n}" for n, p in queues.items() if not p.ok]
    body = HealthOut(
        status="unavailable" if down else "ok",
        code="unavailable" if down else None,
        detail=f"down: {', '.join(down)}" if down else None,
        postgresql=database,
        temporal=temporal,
        task_queues=queues,
    )
    return JSONResponse(body.model_dump(exclude_none=True), 503 if down else 200)


async def _database(request: Request) -> Part:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT), request.app.state.sessions() as session:
            await monitoring.ping(session)
    except Exception as err:  # any failure means not ready; the kind is enough to say
        return Part(ok=False, detail=f"PostgreSQL is unreachable ({type(err).__name__})")
    return Part(ok=True)


async def _temporal(request: Request) -> tuple[Part, Client | None]:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            client = await get_temporal(request)
            await client.workflow_service.get_system_info(GetSystemInfoRequest())
    except Exception as err:
        return Part(ok=False, detail=f"Temporal is unreachable ({type(err).__name__})"), None
    return Part(ok=True), client


async def _pollers(client: Client, namespace: str, name: str) -> QueuePart:
    counts = []
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            for kind in (
                TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            ):
                described = await client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace=namespace, task_queue=TaskQueue(name=name), task_queue_type=kind
                    )
                )
                counts.append(len(described.pollers))
    except Exception as err:
        return QueuePart(ok=False, detail=f"could not describe the queue ({type(err).__name__})")
    ok = counts[0] > 0
    return QueuePart(
        ok=ok,
        detail=None if ok else "no worker polls this queue",
        workflow_pollers=counts[0],
        activity_pollers=counts[1],
    )
