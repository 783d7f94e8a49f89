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
    # Telegram says the lead cannot be written to by this account without Premium or
    # paid messages (users.getRequirementsToContact): skipped before any send.
    SKIPPED = "skipped"


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
    # An auto_winner node picked its A/B winner (one row per campaign and node).
    AB_WINNER = "ab_winner"
    # A lead known by phone only was found on Telegram before its first message.
    CONTACT_RESOLVED = "contact_resolved"


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
    SKIPPED = "skipped"
    RESOLVED = "resolved"


class WaitingReason(StrEnum):
    """Why an open execution is not moving right now (contacts list, diagnosis)."""

    # Deferred by the send activity (docs/decisions.md, "Sending").
    RATE_LIMIT = "rate_limit"
    DAILY_CAP = "daily_cap"
    OUTSIDE_WINDOW = "outside_window"
    FLOOD_WAIT = "flood_wait"
    PEER_FLOOD = "peer_flood"
    # Account rotation (docs/decisions.md, "Account rotation and warm-up").
    NEW_CONVERSATION_CAP = "new_conversation_cap"
    ACCOUNT_UNHEALTHY = "account_unhealthy"
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


class AccountStatus(StrEnum):
    """A Telegram account's health, as the send path and the supervisor record it."""

    CONNECTED = "connected"
    PENDING_LOGIN = "pending_login"
    FLOOD_WAIT = "flood_wait"
    PEER_FLOOD = "peer_flood"
    UNAUTHORIZED = "unauthorized"
    BANNED = "banned"


# Accounts that cannot send until a person acts: their campaigns pause, and none is
# launched on them. No worker leases them (db.repositories.inbound.UNLEASED_STATUSES).
UNHEALTHY_ACCOUNT = frozenset(
    {AccountStatus.PENDING_LOGIN, AccountStatus.UNAUTHORIZED, AccountStatus.BANNED}
)
# Accounts limited by Telegram for a while: the next successful send reconnects them.
LIMITED_ACCOUNT = frozenset({AccountStatus.FLOOD_WAIT, AccountStatus.PEER_FLOOD})


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class SendOutcome(StrEnum):
    """What one send_message activity did (workflows.types.SendResult.outcome)."""

    SENT = "sent"
    REPLIED = "replied"
    DEFERRED = "deferred"
    HALTED = "halted"
    FAILED = "failed"
    OPTED_OUT = "opted_out"
    # Telegram requires Premium or paid messages to write to the lead (first send only).
    SKIPPED = "skipped"
    STALE = "stale"


class HaltAction(StrEnum):
    """What the database tells a running workflow to do (workflows.types.Halt.action)."""

    PAUSE = "pause"
    CANCEL = "cancel"


# Reason texts a halted execution records, written once here.
STOPPED_BY_USER = "Campaign stopped by user"
CAMPAIGN_DISABLED = "Campaign disabled"


class LifecycleOp(StrEnum):
    """A campaign control operation (workflows.types.CampaignOp.action) and the signal a
    contact workflow hears for it (pause, resume, cancel)."""

    LAUNCH = "launch"
    RESUME = "resume"
    PAUSE = "pause"
    CANCEL = "cancel"
    DISABLE = "disable"
    REMOVE = "remove"
    # Re-submitted state that asks nothing of the executions: only marks the seq applied.
    NOOP = "noop"


class StepOutcome(StrEnum):
    """What load_execution (ExecutionPlan) and record_step (StepResult) found."""

    RUN = "run"
    OK = "ok"
    HALTED = "halted"
    STALE = "stale"


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
