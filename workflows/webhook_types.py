"""What the webhook stream workflow and its activities pass each other, and its names.

Shared by workflows.webhooks (the workflow) and activities.webhooks (the outbox reads,
the deliveries and the dispatcher that starts the streams), which never imports the
workflow definition.
"""

from __future__ import annotations

from dataclasses import dataclass

WEBHOOK_WORKFLOW = "WebhookStreamWorkflow"
POKE_SIGNAL = "poke"  # WebhookStreamWorkflow.poke
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
