"""A lead's walk through a flow on a simulated clock: the dry run's pure core.

Each node is decided by workflows.flowstep.step, exactly as the contact workflow
decides it; this module only plays the decisions out in time instead of carrying them
out: waits advance the clock, simulated replies end them, and each send waits for the
campaign's sending window and the account's limits (workflows.pacing, the send path's
own rules). Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from db.vocabulary import ExecutionStatus, NodeType, ReplyCategory
from workflows import flowstep
from workflows.flowgraph import Flow, Node

# A flow that loops through delays stops at the send limit; this bounds the rest.
MAX_STEPS = 1000


@dataclass
class SimReply:
    """A reply the lead sends `after_seconds` after the run reaches (or sends at) a node."""

    after_node: str
    text: str
    after_seconds: int
    category: str
    at: datetime | None = None  # set once the run reaches after_node
    used: bool = False


@dataclass
class Stop:
    """How the run ends, and why."""

    status: str
    at: datetime
    error: str | None = None


@dataclass
class Stepped:
    """One node the lead passes through, with what happened there and when."""

    node_id: str
    node_type: str
    at: datetime
    text: str | None = None
    variant: str | None = None
    label: str | None = None  # the edge taken: true/false, replied/no_reply, a branch
    waited_until: datetime | None = None
    held: list[str] = field(default_factory=list)  # why a send waits past its turn
    reply: SimReply | None = None


@dataclass
class Walk:
    steps: list[Stepped]
    stop: Stop
    unused_replies: list[SimReply]


# When a send may go at or after a time: (the time, why it waits), given earlier sends.
SendClock = Callable[[datetime, list[datetime]], tuple[datetime, list[str]]]


def walk(
    flow: Flow,
    variables: Mapping[str, object],
    *,
    choice_key: str,
    start: datetime,
    replies: list[SimReply],
    send_clock: SendClock,
    on_reply: str = "stop",
    max_sends: int,
    winners: Mapping[str, str] | None = None,
) -> Walk:
    """The path, texts and send times of one lead, deciding each node with flowstep.step."""
    now = start
    context: dict[str, object] = {}
    state = flowstep.StepState(flow, variables, context, flowstep.lead_draw(choice_key))
    state.max_sends = max_sends
    steps: list[Stepped] = []
    sent: list[datetime] = []
    unanswered = False
    listed = False
    node_id = flow.start_id

    def hear(until: datetime) -> SimReply | None:
        """The first reply not yet heard that arrives by `until`."""
        due = [r for r in replies if not r.used and r.at is not None and r.at <= until]
        if not due:
            return None
        reply = min(due, key=lambda r: r.at or until)
        reply.used = True
        state.last_reply = {"category": reply.category, "text": reply.text}
        return reply

    def arm(node: Node, at: datetime) -> None:
        for r in replies:
            if r.at is None and r.after_node == node.id:
                r.at = at + timedelta(seconds=r.after_seconds)

    def end(status: str, at: datetime, error: str | None = None) -> Walk:
        unused = [r for r in replies if not r.used]
        return Walk(steps, Stop(status, at, error), unused)

    for _ in range(MAX_STEPS):
        if unanswered and on_reply == "stop":
            return end(ExecutionStatus.RESPONDED, now)
        node = flow.node(node_id)
        here = Stepped(node.id, node.type, now)
        steps.append(here)
        if node.type != NodeType.SEND_MESSAGE:
            arm(node, now)
        # A/B winners already decided (auto_winner) are what a new lead takes.
        flowstep.take_winner(flow, node, context, (winners or {}).get(node.id))
        decision = flowstep.step(state, node)
        if isinstance(decision, flowstep.Wait):
            deadline = now + timedelta(seconds=decision.seconds)
            here.waited_until = deadline
            event = flowstep.Event.ELAPSED
            if decision.kind is flowstep.WaitKind.REPLY and unanswered:
                event, unanswered = flowstep.Event.REPLIED, False
            elif (reply := hear(deadline)) is not None:
                here.reply = reply
                listed = listed or reply.category == ReplyCategory.OPT_OUT
                if decision.kind is flowstep.WaitKind.REPLY:
                    now, event = max(now, reply.at or now), flowstep.Event.REPLIED
                elif on_reply == "stop":
                    return end(ExecutionStatus.RESPONDED, max(now, reply.at or now))
                else:
                    unanswered = True
            if event is flowstep.Event.ELAPSED:
                now = deadline
            here.waited_until = now
            decision = flowstep.step(state, node, event)
        context.update(getattr(decision, "context", {}))
        if isinstance(decision, flowstep.Complete):
            return end(ExecutionStatus.COMPLETED, now)
        if isinstance(decision, flowstep.Fail):
            return end(ExecutionStatus.FAILED, now, decision.error)
        if isinstance(decision, flowstep.Advance):
            here.label = _label(decision)
            if decision.next_id is None:
                return end(ExecutionStatus.COMPLETED, now)
            node_id = decision.next_id
            continue
        assert isinstance(decision, flowstep.Send)
        at, held = send_clock(now, sent)
        reply = hear(at)
        if reply is not None:
            here.reply = reply
            listed = listed or reply.category == ReplyCategory.OPT_OUT
            if on_reply == "stop":
                return end(ExecutionStatus.RESPONDED, max(now, reply.at or now))
            unanswered = True
        if listed:
            return end(ExecutionStatus.OPTED_OUT, at, "The lead asked to stop (do-not-contact)")
        here.at, here.held, here.text, here.variant = at, held, decision.text, decision.variant
        now = at
        sent.append(at)
        state.sends += 1
        unanswered = False
        arm(node, at)
        if decision.finish_id is not None:
            steps.append(Stepped(decision.finish_id, NodeType.END, at))
            return end(ExecutionStatus.COMPLETED, at)
        node_id = decision.next_id
    return end(ExecutionStatus.FAILED, now, f"Stopped after {MAX_STEPS} steps")


def _label(decision: flowstep.Advance) -> str | None:
    details = decision.details
    if "result" in details:
        return flowstep.TRUE if details["result"] else flowstep.FALSE
    branch = details.get("branch")
    return str(branch) if branch is not None else None
