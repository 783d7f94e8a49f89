"""The worker's metrics port: liveness, readiness, and the Temporal SDK's own metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from db.session import make_engine, make_session_factory
from tests.conftest import free_port, unique
from workflows.worker_monitor import WorkerMonitor, serving


async def test_ready_when_database_temporal_and_pollers_answer(worker: str) -> None:
    async with httpx.AsyncClient() as http:
        live = await http.get(f"{worker}/health/live")
        ready = await http.get(f"{worker}/health")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {
        "database": "ok",
        "temporal": "ok",
        "pollers:tgflows-test": "ok",
        "pollers:tgflows-test-control": "ok",
    }


@activity.defn(name="noop")
async def noop() -> None:
    return None


async def test_not_ready_names_what_fails(temporal_env: WorkflowEnvironment) -> None:
    # Nothing listens on this port: PostgreSQL is unreachable.
    engine = make_engine(f"postgresql://nobody@127.0.0.1:{free_port()}/none", pool_size=1)
    idle = Worker(temporal_env.client, task_queue=unique("idle"), activities=[noop])
    monitor = WorkerMonitor(make_session_factory(engine), temporal_env.client, {"idle": idle})
    port = free_port()
    try:
        async with serving(monitor.app(), "127.0.0.1", port) as bound:
            assert bound
            async with httpx.AsyncClient() as http:
                ready = await http.get(f"http://127.0.0.1:{port}/health", timeout=10)
                live = await http.get(f"http://127.0.0.1:{port}/health/live")
    finally:
        await engine.dispose()
    assert live.status_code == 200
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"].startswith("failing")
    assert checks["temporal"] == "ok"
    assert checks["pollers:idle"] == "not polling"


@pytest.fixture
def worker_process(
    temporal_env: WorkflowEnvironment, database_url: str
) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """`tgflows worker` as deployed, on its own task queue, with both metrics ports."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "TGFLOWS_TASK_QUEUE": unique("queue"),
        # Control only: a contacts worker would lease the suite's accounts.
        "TGFLOWS_WORKER_ROLES": "control",
        "TGFLOWS_WORKER_METRICS_PORT": str(free_port()),
        "TGFLOWS_TEMPORAL_METRICS_PORT": str(free_port()),
    }
    env.pop("TGFLOWS_LOG_FORMAT", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tgflows", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, env
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_worker_process_serves_health_and_both_metrics(
    worker_process: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    proc, env = worker_process
    base = f"http://127.0.0.1:{env['TGFLOWS_WORKER_METRICS_PORT']}"
    deadline = time.monotonic() + 60
    ready: httpx.Response | None = None
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            ready = httpx.get(f"{base}/health", timeout=5)
            if ready.status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    assert ready is not None and ready.status_code == 200, ready and ready.text
    queue = env["TGFLOWS_TASK_QUEUE"]
    assert ready.json()["checks"][f"pollers:{queue}-control"] == "ok"
    ours = httpx.get(f"{base}/metrics").text
    assert "tgflows_executions{" in ours
    sdk = httpx.get(f"http://127.0.0.1:{env['TGFLOWS_TEMPORAL_METRICS_PORT']}/metrics").text
    # The Temporal SDK's own runtime metrics, for this worker's task queue.
    assert f'task_queue="{queue}-control"' in sdk and "temporal_" in sdk
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    assert proc.stderr is not None
    lines = [line for line in proc.stderr.read().splitlines() if line.strip()]
    # Not a terminal: one JSON object per line.
    records = [json.loads(line) for line in lines]
    started = [r for r in records if r["logger"] == "tgflows.worker"]
    assert started and queue in started[0]["msg"]
