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

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

WEBHOOK_WORKFLOW = "WebhookStreamWorkflow"
# Rows taken from the outbox per read; the history is restarted past this many events.
BATCH = 20
HISTORY_EVENTS = 2000
IDLE = timedelta(minutes=1)
# Raised by the delivery activity for a delivery that must not be retried.
GONE = "WebhookGone"


def webhook_task_queue(task_queue: str) -> str:
    """Deliveries run on a queue of their own: a slow receiver never holds the fan-out."""
    return f"{task_queue}-webhooks"


def stream_workflow_id(webhook_id: int, campaign_id: int) -> str:
    return f"webhook-{webhook_id}-campaign-{campaign_id}"


@dataclass
class StreamInput:
    webhook_id: int
    campaign_id: int  # 0: the webhook's account events
    # Backoff between attempts of one delivery, and how long it is retried in all.
    initial_seconds: float = 10.0
    max_seconds: float = 3600.0
    retry_seconds: float = 24 * 3600.0
    timeout_seconds: float = 10.0


@dataclass
class PendingQuery:
    webhook_id: int
    campaign_id: int
    limit: int


@dataclass
class DeliverRequest:
    delivery_id: int
    timeout_seconds: float


@workflow.defn(name=WEBHOOK_WORKFLOW)
class WebhookStreamWorkflow:
    def __init__(self) -> None:
        self._poked = False

    @workflow.signal
    def poke(self) -> None:
        """The stream has new pending deliveries (or one asked to be redelivered)."""
        self._poked = True

    @workflow.run
    async def run(self, inp: StreamInput) -> int:
        delivered = 0
        while True:
            self._poked = False
            batch: list[int] = await workflow.execute_activity(
                "webhook_pending",
                PendingQuery(inp.webhook_id, inp.campaign_id, BATCH),
                result_type=list[int],
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
            await workflow.execute_activity(
                "webhook_deliver",
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
            await workflow.execute_activity(
                "webhook_give_up", delivery_id, start_to_close_timeout=timedelta(seconds=30)
            )
