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

    @workflow.run
    async def run(self, sleep_seconds: int) -> int:
        for i in range(2):
            await workflow.execute_activity(
                "bench_noop", i, start_to_close_timeout=timedelta(seconds=30)
            )
        if sleep_seconds:
            await workflow.sleep(sleep_seconds)
        return 2
