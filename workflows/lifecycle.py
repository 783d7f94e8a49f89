"""The campaign state machine, pure: which command each campaign status allows (the
transition table the api's policies read), and which executions an operation's fan-out
touches, and how.

The api, the fan-out activities and the tests read these; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from db.vocabulary import (
    CAMPAIGN_DISABLED,
    STOPPED_BY_USER,
    CampaignStatus,
    ExecutionStatus,
    LifecycleOp,
)
from workflows.types import CampaignOp


class Command(StrEnum):
    """What a user does to a campaign that its status may refuse (409). api.policies
    names the same commands as actions; everything else is allowed in any status."""

    EDIT_FLOW = "edit_flow"
    LAUNCH = "launch"
    PAUSE = "pause"
    STOP = "stop"
    ADD_CONTACTS = "add_contacts"


# The transition table: the campaign statuses from which each command is allowed.
ALLOWED_FROM: dict[Command, frozenset[CampaignStatus]] = {
    Command.EDIT_FLOW: frozenset(
        {CampaignStatus.DRAFT, CampaignStatus.PAUSED, CampaignStatus.SCHEDULED}
    ),
    Command.LAUNCH: frozenset({CampaignStatus.DRAFT, CampaignStatus.PAUSED}),
    Command.PAUSE: frozenset({CampaignStatus.ACTIVE, CampaignStatus.SCHEDULED}),
    Command.STOP: frozenset(
        {CampaignStatus.ACTIVE, CampaignStatus.PAUSED, CampaignStatus.SCHEDULED}
    ),
    # A stopped campaign cannot run again, so contacts added to it would never start.
    Command.ADD_CONTACTS: frozenset(
        {
            CampaignStatus.DRAFT,
            CampaignStatus.SCHEDULED,
            CampaignStatus.ACTIVE,
            CampaignStatus.PAUSED,
            CampaignStatus.COMPLETED,
        }
    ),
}
# Settings that may not change while the campaign runs.
LOCKED_WHILE_ACTIVE = frozenset({"ab_test"})


def allowed_from(command: Command, status: str) -> bool:
    return status in ALLOWED_FROM[command]


# The execution statuses each operation's fan-out pages through.
PAGE_STATUSES: dict[LifecycleOp, tuple[ExecutionStatus, ...]] = {
    LifecycleOp.LAUNCH: (
        ExecutionStatus.PENDING,
        ExecutionStatus.PAUSED,
        ExecutionStatus.COMPLETED,
    ),
    LifecycleOp.RESUME: (ExecutionStatus.PENDING, ExecutionStatus.PAUSED),
    LifecycleOp.PAUSE: (ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.WAITING),
    LifecycleOp.CANCEL: (
        ExecutionStatus.PENDING,
        ExecutionStatus.RUNNING,
        ExecutionStatus.WAITING,
        ExecutionStatus.PAUSED,
    ),
    # Disable cancels what runs, and leaves alone what never started or holds paused:
    # a draft disabled and enabled again keeps its pending leads (see disable_statuses).
    LifecycleOp.DISABLE: (ExecutionStatus.RUNNING, ExecutionStatus.WAITING),
}
# The campaign statuses in which pending executions have (or are about to get) a workflow.
LAUNCHED = frozenset({CampaignStatus.ACTIVE, CampaignStatus.SCHEDULED})


def page_statuses(
    action: str, *, reset_completed: bool, retried: bool
) -> tuple[ExecutionStatus, ...]:
    """The statuses a page of this operation selects.

    A launch that does not reset (added contacts, the reconciler) leaves completed
    executions alone. A retried launch page also selects `waiting`: its failed attempt
    may have resumed paused executions (now waiting) without reaching their workflows.
    """
    op = LifecycleOp(action)
    if op == LifecycleOp.LAUNCH and not reset_completed:
        op = LifecycleOp.RESUME
    statuses = PAGE_STATUSES[op]
    if retried and op in (LifecycleOp.LAUNCH, LifecycleOp.RESUME):
        statuses = (*statuses, ExecutionStatus.WAITING)
    return statuses


def disable_statuses(campaign_status: str) -> tuple[ExecutionStatus, ...]:
    """What disabling cancels: executions under way. Pending ones count only in a
    launched campaign, where their workflows are starting; in a draft they wait."""
    if campaign_status in LAUNCHED:
        return (ExecutionStatus.PENDING, *PAGE_STATUSES[LifecycleOp.DISABLE])
    return PAGE_STATUSES[LifecycleOp.DISABLE]


@dataclass(frozen=True, slots=True)
class PageRow:
    """An execution as a launch page finds it (row-locked)."""

    id: int
    generation: int
    status: str
    launch_seq: int


@dataclass
class LaunchPlan:
    """What one launch page does, decided before it writes or starts anything."""

    reset: list[int] = field(default_factory=list)  # completed: run again, next generation
    resume: list[int] = field(default_factory=list)  # paused: runnable again
    stamp: list[int] = field(default_factory=list)  # every execution this op starts
    start: list[tuple[int, int]] = field(default_factory=list)  # (id, generation) to start
    may_exist: set[int] = field(default_factory=set)  # signalled-with-start, not plainly


def plan_launch_page(rows: Iterable[PageRow], *, seq: int, reset_completed: bool) -> LaunchPlan:
    """Plan a launch page so that retrying it changes nothing the op already did.

    `launch_seq` is the op that last reset or started an execution. An execution this
    op (or a newer one) already handled is never reset again: a retried page once reset
    leads that had completed in the meantime to a new generation, new workflow ids and
    new random_ids, and they got the whole flow twice. Starting again is harmless (the
    workflow id of a generation is started once), so pending and running ones are
    started again; only a generation change must happen once.
    """
    plan = LaunchPlan()
    for row in rows:
        if row.launch_seq > seq:
            continue  # a newer launch handled it: this op is stale for it
        if row.status == ExecutionStatus.COMPLETED:
            if not reset_completed or row.launch_seq == seq:
                continue  # completed under this very launch: done, not to run twice
            plan.reset.append(row.id)
            plan.start.append((row.id, row.generation + 1))
        elif row.status == ExecutionStatus.PAUSED:
            plan.resume.append(row.id)
            plan.start.append((row.id, row.generation))
            plan.may_exist.add(row.id)
        elif row.status in (
            ExecutionStatus.PENDING,
            ExecutionStatus.WAITING,
            ExecutionStatus.RUNNING,
        ):
            plan.start.append((row.id, row.generation))
            if row.status != ExecutionStatus.PENDING or row.launch_seq == seq:
                # A retried page's: the failed attempt may have resumed it from paused
                # (to waiting, or to pending when it had no deadline) without reaching
                # its workflow, which holds where it paused.
                plan.may_exist.add(row.id)
        else:
            continue
        if row.launch_seq < seq:
            plan.stamp.append(row.id)
    return plan


class SavedCampaign(Protocol):
    """The columns of a campaign's saved state that say what Temporal should be doing."""

    @property
    def control_seq(self) -> int: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def status(self) -> str: ...
    @property
    def scheduled_start_at(self) -> datetime | None: ...


def ops_for_state(campaign: SavedCampaign, removed_open: list[int]) -> list[CampaignOp]:
    """The operations that bring Temporal in line with the campaign's saved state."""
    seq = campaign.control_seq
    ops = []
    if removed_open:
        ops.append(
            CampaignOp(
                seq=seq,
                action=LifecycleOp.REMOVE,
                execution_ids=removed_open,
                reason="Contact removed from campaign",
            )
        )
    if not campaign.enabled:
        ops.append(CampaignOp(seq=seq, action=LifecycleOp.DISABLE, reason=CAMPAIGN_DISABLED))
    elif campaign.status == CampaignStatus.CANCELLED:
        ops.append(CampaignOp(seq=seq, action=LifecycleOp.CANCEL, reason=STOPPED_BY_USER))
    elif campaign.status == CampaignStatus.PAUSED:
        ops.append(CampaignOp(seq=seq, action=LifecycleOp.PAUSE))
    elif campaign.status in (CampaignStatus.ACTIVE, CampaignStatus.SCHEDULED):
        # Without resetting completed executions: the lost launch may have run partly,
        # and a reset then would message leads twice.
        start = campaign.scheduled_start_at if campaign.status == CampaignStatus.SCHEDULED else None
        ops.append(
            CampaignOp(
                seq=seq,
                action=LifecycleOp.LAUNCH,
                scheduled_start_at=start.isoformat() if start else None,
            )
        )
    else:
        ops.append(CampaignOp(seq=seq, action=LifecycleOp.NOOP))
    return ops
