"""The words of the domain that callers filter on and diagnosis speaks: pure, no I/O."""

from __future__ import annotations

from enum import StrEnum


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ExecutionStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    PAUSED = "paused"
    COMPLETED = "completed"
    RESPONDED = "responded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    OPTED_OUT = "opted_out"


class NodeType(StrEnum):
    START = "start"
    SEND_MESSAGE = "send_message"
    DELAY = "delay"
    WAIT_FOR_REPLY = "wait_for_reply"
    CONDITION = "condition"
    AB_SPLIT = "ab_split"
    END = "end"


class LogEvent(StrEnum):
    """What a log row records; the first four (and delivery_confirmed) feed the activities."""

    MESSAGE_SENT = "message_sent"
    DELIVERY_CONFIRMED = "delivery_confirmed"
    CAMPAIGN_ACTIVITY = "campaign_activity"
    RESPONSE_DETECTED = "response_detected"
    MESSAGE_READ = "message_read"
    DEFERRED = "deferred"
    DELAY_STARTED = "delay_started"
    WAITING_FOR_REPLY = "waiting_for_reply"


class LogStatus(StrEnum):
    COMPLETED = "completed"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEFERRED = "deferred"
    WAITING = "waiting"
    CANCELLED = "cancelled"
    RESPONDED = "responded"
    REPLIED = "replied"
    READ = "read"
    OPTED_OUT = "opted_out"


class WaitingReason(StrEnum):
    """Why an open execution is not moving right now (contacts list, diagnosis)."""

    # Deferred by the send activity (docs/decisions.md, "Sending").
    RATE_LIMIT = "rate_limit"
    DAILY_CAP = "daily_cap"
    OUTSIDE_WINDOW = "outside_window"
    FLOOD_WAIT = "flood_wait"
    PEER_FLOOD = "peer_flood"
    # The flow itself waits.
    DELAY = "delay"
    REPLY = "reply"
    # Not started or held.
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    PAUSED = "paused"


class ReplyCategory(StrEnum):
    """What a lead's reply says, by the scope's reply rules (docs/decisions.md)."""

    OPT_OUT = "opt_out"
    INTERESTED = "interested"
    NOT_INTERESTED = "not_interested"
    OUT_OF_OFFICE = "out_of_office"
    OTHER = "other"


class WebhookEvent(StrEnum):
    """What an outbound webhook can subscribe to (docs/webhooks.md)."""

    MESSAGE_SENT = "message_sent"
    MESSAGE_READ = "message_read"
    RESPONSE_DETECTED = "response_detected"
    EXECUTION_FINISHED = "execution_finished"
    CAMPAIGN_STATUS_CHANGED = "campaign_status_changed"
    ACCOUNT_HEALTH_CHANGED = "account_health_changed"


class DeliveryStatus(StrEnum):
    """Where one webhook delivery stands: pending until a 2xx, failed after its retries."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
