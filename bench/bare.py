"""The baseline workflow: what Temporal costs with no tgflows logic at all."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def bench_noop(n: int) -> int:
    return n


@workflow.defn(name="BareWorkflow")
class BareWorkflow:
    """The baseline: what Temporal costs with no tgflows logic at all."""

    def __init__(self) -> None:
        self.paused = False

    @workflow.signal
    def pause(self) -> None:
        """The pause baseline's signal: one workflow task that sets a flag."""
        self.paused = True

    @workflow.query
    def is_paused(self) -> bool:
        return self.paused

    @workflow.run
    async def run(self, sleep_seconds: int) -> int:
        for i in range(2):
            await workflow.execute_activity(
                "bench_noop", i, start_to_close_timeout=timedelta(seconds=30)
            )
        if sleep_seconds:
            await workflow.sleep(sleep_seconds)
        return 2


async def _serve(address: str, queue: str) -> None:
    import asyncio

    from temporalio.client import Client
    from temporalio.worker import Worker

    client = await Client.connect(address)
    async with Worker(
        client,
        task_queue=queue,
        workflows=[BareWorkflow],
        activities=[bench_noop],
        max_concurrent_activities=200,
        max_cached_workflows=2000,
    ):
        await asyncio.Event().wait()


if __name__ == "__main__":
    import asyncio
    import contextlib
    import sys

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(sys.argv[1], sys.argv[2]))
