"""Dataclasses passed in and out of every workflow, activity, signal and query, and the
names the workflows are registered under.

A shared module: workflow definitions call activities by method reference (they import
activities), so activities, which start and signal workflows, name them here and never
import a workflow definition (tests/test_layering.py).
"""

from dataclasses import dataclass, field
from typing import Any

from db.vocabulary import ExecutionStatus
from workflows.limits import DEFAULT_MAX_SENDS_PER_EXECUTION

CONTACT_WORKFLOW = "ContactWorkflow"
CONTROL_WORKFLOW = "CampaignControlWorkflow"
# Signals and queries that code below the workflows (activities, client helpers) sends.
CONTROL_SIGNAL = "control"  # ContactWorkflow.control
REPLY_SIGNAL = "reply"  # ContactWorkflow.reply
SUBMIT_SIGNAL = "submit"  # CampaignControlWorkflow.submit
RECEIVED_SEQ_QUERY = "received_seq"  # CampaignControlWorkflow.received_seq
STATE_QUERY = "state"  # ContactWorkflow.state


def contact_workflow_id(execution_id: int, generation: int) -> str:
    return f"contact-{execution_id}-g{generation}"


def account_task_queue(account_id: int) -> str:
    """Sends of a Telethon account run where its one connected client lives."""
    return f"tgflows-account-{account_id}"


def control_task_queue(task_queue: str) -> str:
    """Campaign control workflows and their fan-out have a queue of their own, so a
    worker process can be given to them alone (TGFLOWS_WORKER_ROLES)."""
    return f"{task_queue}-control"


def control_workflow_id(campaign_id: int) -> str:
    return f"campaign-{campaign_id}"


@dataclass
class ControlSignal:
    """Pause, resume or cancel; the newest seq wins whatever the arrival order."""

    seq: int
    action: str  # pause | resume | cancel
    reason: str | None = None


@dataclass
class ReplySignal:
    message_id: int
    text: str
    # db.vocabulary.ReplyCategory; a condition node reads it as `reply.category`.
    category: str | None = None


@dataclass
class LogEntry:
    node_id: str | None
    node_type: str | None
    event_type: str
    status: str
    message_text: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Halt:
    """Why the database says this execution must not go on right now."""

    action: str  # pause | cancel
    seq: int
    reason: str | None = None


@dataclass
class ExecutionPlan:
    """What a contact workflow needs to walk its flow, read from the database."""

    outcome: str  # run | stale | halted
    # The campaign's flow version; the workflow loads a large flow itself (load_flow),
    # so a start input stays small whatever the flow.
    flow_version: int = 0
    variables: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    current_node_id: str | None = None
    next_execution_at: str | None = None
    on_reply: str = "stop"
    halt: Halt | None = None
    # Telethon accounts send from the worker holding their client; None: the main queue.
    send_queue: str | None = None
    # Seconds a send may wait on its account's queue for a worker to take it before the
    # lead records why (workflows.contact_send); None: no limit (plans before it).
    send_queue_wait: int | None = None
    max_sends: int = DEFAULT_MAX_SENDS_PER_EXECUTION
    # Fixes the lead's A/B variants and branches (workflows.flowstep.lead_draw), so a
    # preview shows them; None: the run's own random (plans written before it existed).
    choice_key: str | None = None
    # The flow of `flow_version` itself when it is small (activities.executions
    # INLINE_FLOW_BYTES): the workflow then does not load it. None: it loads it.
    flow: dict[str, Any] | None = None


@dataclass
class ContactInput:
    execution_id: int
    generation: int
    campaign_id: int
    # Read by the fan-out for a whole page at once; a workflow started without one (a
    # fan-out with no planner, or a lead its page did not plan) reads its own with the
    # load_execution activity.
    plan: ExecutionPlan | None = None
    # The control op that started a lead with no workflow yet; a workflow that may exist
    # (a paused lead's) hears its op as a control signal instead.
    seq: int | None = None


@dataclass
class FlowRequest:
    """One stored version of a campaign's flow; versions never change once written."""

    campaign_id: int
    version: int


@dataclass
class FlowDocument:
    campaign_id: int
    version: int
    flow: dict[str, Any] | None  # None: no such version


@dataclass
class StepRequest:
    """Mirror a node transition: current node, status, wake-up time and log rows."""

    execution_id: int
    generation: int
    node_id: str | None
    status: str
    next_execution_at: str | None
    context: dict[str, Any]
    logs: list[LogEntry]
    campaign_id: int


@dataclass
class StepResult:
    outcome: str  # ok | stale | halted
    halt: Halt | None = None


@dataclass
class SendRequest:
    execution_id: int
    generation: int
    campaign_id: int
    node_id: str
    visit: int
    text: str
    variant: str | None
    next_node_id: str | None
    context: dict[str, Any]
    logs: list[LogEntry]
    known_replies: int = 0
    reserved_slot: str | None = None
    # The flow's end node when it follows this send: the send then also completes the
    # execution, in the same transaction, and the workflow needs no finishing step.
    finish_node_id: str | None = None
    # The lead's first message in this run: the send path first asks Telegram whether
    # the lead can be written to at all (Premium or paid messages required: skipped).
    first_send: bool = False


@dataclass
class SendResult:
    outcome: str  # sent | replied | deferred | halted | failed | opted_out | skipped | stale
    wait_until: str | None = None
    reason: str | None = None
    error: str | None = None
    halt: Halt | None = None
    telegram_message_id: int | None = None
    reserved_slot: str | None = None
    finished: bool = False
    # The sent message's row (messages.id): a reply signalled while the send was in
    # flight whose row is newer answers this message, not an earlier one.
    message_row_id: int | None = None


@dataclass
class FinishRequest:
    execution_id: int
    generation: int
    status: str  # completed | responded | failed | cancelled
    node_id: str | None
    error_message: str | None
    context: dict[str, Any]
    logs: list[LogEntry]
    campaign_id: int


@dataclass
class ContactState:
    """The answer to the `state` query: what an operator needs about one lead."""

    execution_id: int
    generation: int
    status: str = ExecutionStatus.PENDING
    current_node_id: str | None = None
    next_wake_up: str | None = None
    last_error: str | None = None
    variant: str | None = None
    visited_nodes: list[str] = field(default_factory=list)
    paused: bool = False
    replies: int = 0
    waiting_for: str | None = None


@dataclass
class ContactResult:
    status: str
    error_message: str | None = None


@dataclass
class CampaignOp:
    seq: int
    action: str  # launch | resume | pause | cancel | remove
    reason: str | None = None
    reset_completed: bool = False
    scheduled_start_at: str | None = None
    execution_ids: list[int] = field(default_factory=list)


@dataclass
class ControlInput:
    campaign_id: int
    organization_id: int | None


@dataclass
class FanoutPage:
    campaign_id: int
    organization_id: int | None
    op: CampaignOp
    after_id: int
    limit: int = 2000


@dataclass
class FanoutResult:
    next_after_id: int | None
    touched: int


@dataclass
class ActivateRequest:
    campaign_id: int
    seq: int
