"""The benchmarks run the worker, the simulator and the baseline as their own processes.

That is how they are deployed (DESIGN.md: api, worker and simulator are separate
processes), and it keeps the test process's own work (the api, polling the database)
out of the numbers; the worker's memory is then the worker's alone.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator

from temporalio.client import Client

from tests.processes import process, simulator_process, wait_for_poller, worker_process

__all__ = ["bare_worker_process", "rss_mb_of", "simulator_process", "worker_process"]


@contextlib.asynccontextmanager
async def bare_worker_process(client: Client, queue: str) -> AsyncIterator[int]:
    args = [sys.executable, "-m", "bench.bare", client.service_client.config.target_host, queue]
    async with process(args, {}) as pid:
        await wait_for_poller(client, queue)
        yield pid


def rss_mb_of(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no RSS for {pid}")
