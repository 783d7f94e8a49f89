"""The delivery workflow of one webhook stream: a webhook's events of one campaign (or
of its accounts), delivered strictly in the order they were recorded.

The outbox (webhook_deliveries) is the source of truth; this workflow only drains it.
The worker's dispatcher signals-with-start it ("poke") when the stream has new pending
rows; it takes the oldest pending rows, delivers each with retries and backoff until
the receiver answers 2xx or the retry period (24 h by default) runs out, and only then
moves to the next one. Idle, it waits a while for a poke and ends; the next event
starts it again. Workflow code only: no I/O, deterministic.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.webhooks import WebhookActivities
    from workflows.webhook_types import (
        GONE,
        POKE_SIGNAL,
        WEBHOOK_WORKFLOW,
        DeliverRequest,
        PendingQuery,
        StreamInput,
    )

# Rows taken from the outbox per read; the history is restarted past this many events.
BATCH = 20
HISTORY_EVENTS = 2000
IDLE = timedelta(minutes=1)


@workflow.defn(name=WEBHOOK_WORKFLOW)
class WebhookStreamWorkflow:
    def __init__(self) -> None:
        self._poked = False

    @workflow.signal(name=POKE_SIGNAL)
    def poke(self) -> None:
        """The stream has new pending deliveries (or one asked to be redelivered)."""
        self._poked = True

    @workflow.run
    async def run(self, inp: StreamInput) -> int:
        delivered = 0
        while True:
            self._poked = False
            batch = await workflow.execute_activity_method(
                WebhookActivities.pending,
                PendingQuery(inp.webhook_id, inp.campaign_id, BATCH),
                start_to_close_timeout=timedelta(seconds=30),
            )
            if not batch:
                try:
                    await workflow.wait_condition(lambda: self._poked, timeout=IDLE)
                except TimeoutError:
                    return delivered
                continue
            for delivery_id in batch:
                await self._deliver(inp, delivery_id)
                delivered += 1
            if workflow.info().get_current_history_length() > HISTORY_EVENTS:
                workflow.continue_as_new(inp)

    async def _deliver(self, inp: StreamInput, delivery_id: int) -> None:
        """One delivery, retried with exponential backoff; the next waits for it."""
        try:
            await workflow.execute_activity_method(
                WebhookActivities.deliver,
                DeliverRequest(delivery_id, inp.timeout_seconds),
                start_to_close_timeout=timedelta(seconds=inp.timeout_seconds + 30),
                schedule_to_close_timeout=timedelta(seconds=inp.retry_seconds),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=inp.initial_seconds),
                    backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=inp.max_seconds),
                    non_retryable_error_types=[GONE],
                ),
            )
        except ActivityError:
            # Out of retries: the delivery is marked failed (redeliverable by hand) and
            # the stream goes on, so one dead event does not hold the rest forever.
            await workflow.execute_activity_method(
                WebhookActivities.give_up, delivery_id, start_to_close_timeout=timedelta(seconds=30)
            )
