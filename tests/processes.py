"""Real processes for tests and benchmarks: the worker, the simulator, as deployed.

DESIGN.md runs the api, the worker and the simulator as separate processes; the chaos
test kills the worker with SIGKILL, which only a process of its own allows. The
benchmarks use them too, which keeps the test process's own work out of their numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from tests.conftest import free_port

TGFLOWS = os.path.join(os.path.dirname(sys.executable), "tgflows")


@contextlib.asynccontextmanager
async def process(args: list[str], env: Mapping[str, str]) -> AsyncIterator[int]:
    """A child process with extra environment; its pid while it runs, stopped after."""
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below
        prefix="tgflows-proc-", suffix=".log", delete=False
    )
    child = subprocess.Popen(
        args,
        env={**os.environ, **env},
        start_new_session=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield child.pid
    finally:
        log.close()
        child.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(child.wait, 20)
        except subprocess.TimeoutExpired:
            child.kill()
            await asyncio.to_thread(child.wait)


@contextlib.asynccontextmanager
async def simulator_process() -> AsyncIterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with process([TGFLOWS, "simulator"], {"TGFLOWS_SIMULATOR_PORT": str(port)}):
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    await http.get(f"{url}/docs")
                    break
                await asyncio.sleep(0.1)
        yield url


async def wait_for_poller(client: Client, queue: str, timeout: float = 60) -> None:
    """Until a worker polls the queue for workflow tasks."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    for _ in range(int(timeout * 10)):
        described = await client.workflow_service.describe_task_queue(request)
        if described.pollers:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no worker polls {queue}")


def worker_env(
    client: Client, *, database_url: str, simulator_url: str, queue: str
) -> dict[str, str]:
    """The environment of a `tgflows worker` serving this queue of this stack."""
    return {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "TGFLOWS_TASK_QUEUE": queue,
        "TGFLOWS_SIMULATOR_URL": simulator_url,
        "TGFLOWS_WORKER_ID": f"worker-{queue}",
        # No metrics ports: several workers (a restarted one, other suites) share a host.
        "TGFLOWS_WORKER_METRICS_PORT": "0",
        "TGFLOWS_TEMPORAL_METRICS_PORT": "0",
    }


@contextlib.asynccontextmanager
async def worker_process(
    client: Client, *, database_url: str, simulator_url: str, queue: str
) -> AsyncIterator[int]:
    """`tgflows worker` with its default roles (contacts and control)."""
    env = worker_env(client, database_url=database_url, simulator_url=simulator_url, queue=queue)
    args = [TGFLOWS, "worker"]
    if spy := os.environ.get("BENCH_PYSPY"):
        # Profile the worker: BENCH_PYSPY=out.txt with py-spy installed in the venv.
        pyspy = os.path.join(os.path.dirname(sys.executable), "py-spy")
        args = [pyspy, "record", "--gil", "-r", "50", "-f", "raw", "-o", spy, "--", *args]
    async with process(args, env) as pid:
        await wait_for_poller(client, queue)
        yield pid
