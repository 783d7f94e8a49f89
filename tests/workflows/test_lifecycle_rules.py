"""The lifecycle's pure rules: what a launch page resets, resumes and starts, which
operations bring Temporal in line with a saved campaign, and what the database tells a
running execution. No services: these run in milliseconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from activities.state import FINAL_SEQ, halt_for
from db.repositories.executions import CampaignState, ExecutionState
from db.vocabulary import (
    CAMPAIGN_DISABLED,
    STOPPED_BY_USER,
    CampaignStatus,
    ExecutionStatus,
    LifecycleOp,
)
from workflows.lifecycle import (
    PageRow,
    disable_statuses,
    ops_for_state,
    page_statuses,
    plan_launch_page,
)
from workflows.types import Halt

SEQ = 7


def test_a_first_attempt_resets_completed_resumes_paused_and_starts_pending() -> None:
    plan = plan_launch_page(
        [
            PageRow(1, 1, "completed", 3),
            PageRow(2, 1, "paused", 3),
            PageRow(3, 1, "pending", 0),
        ],
        seq=SEQ,
        reset_completed=True,
    )
    assert plan.reset == [1] and plan.resume == [2]
    assert plan.start == [(1, 2), (2, 1), (3, 1)]
    assert plan.may_exist == {2} and plan.stamp == [1, 2, 3]


def test_a_retried_page_never_resets_what_its_own_launch_started() -> None:
    # The first attempt reset lead 1 (now generation 2) and started lead 3; both have
    # completed since. The retry must leave them alone: a reset would message them again.
    plan = plan_launch_page(
        [
            PageRow(1, 2, "completed", SEQ),
            PageRow(2, 1, "waiting", SEQ),
            PageRow(3, 1, "completed", SEQ),
            PageRow(4, 1, "pending", SEQ),
        ],
        seq=SEQ,
        reset_completed=True,
    )
    assert plan.reset == [] and plan.stamp == []
    # Starting again is harmless: a generation's workflow id starts once.
    assert plan.start == [(2, 1), (4, 1)]
    # Lead 4 is pending under this very launch: its first attempt may have resumed it
    # from paused (no deadline left) without reaching its workflow, which holds until
    # signalled; a plain start would find it running and leave it paused for good.
    assert plan.may_exist == {2, 4}


def test_a_newer_launch_owns_what_it_touched() -> None:
    plan = plan_launch_page(
        [PageRow(1, 3, "completed", SEQ + 1), PageRow(2, 1, "pending", SEQ + 1)],
        seq=SEQ,
        reset_completed=True,
    )
    assert plan.start == [] and plan.reset == []


def test_a_launch_without_reset_leaves_completed_alone() -> None:
    plan = plan_launch_page([PageRow(1, 1, "completed", 0)], seq=SEQ, reset_completed=False)
    assert plan.start == [] and plan.reset == []
    assert page_statuses("launch", reset_completed=False, retried=False) == ("pending", "paused")


def test_a_retried_launch_page_also_pages_waiting() -> None:
    assert "waiting" not in page_statuses("launch", reset_completed=True, retried=False)
    assert "waiting" in page_statuses("launch", reset_completed=True, retried=True)
    assert page_statuses("pause", reset_completed=False, retried=True) == (
        "pending",
        "running",
        "waiting",
    )


def test_disable_cancels_what_runs_and_pending_only_once_launched() -> None:
    assert "pending" not in disable_statuses("draft")
    assert "pending" not in disable_statuses("paused")
    assert set(disable_statuses("active")) == {"pending", "running", "waiting"}
    assert "paused" not in disable_statuses("active")


@dataclass
class Saved:
    control_seq: int = 5
    enabled: bool = True
    status: str = CampaignStatus.ACTIVE
    scheduled_start_at: datetime | None = None


def test_the_reconciler_relaunches_an_active_campaign_without_reset() -> None:
    (op,) = ops_for_state(Saved(), [])
    assert (op.seq, op.action, op.reset_completed, op.scheduled_start_at) == (
        5,
        LifecycleOp.LAUNCH,
        False,
        None,
    )


def test_a_scheduled_campaign_is_relaunched_for_its_start() -> None:
    at = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    (op,) = ops_for_state(Saved(status=CampaignStatus.SCHEDULED, scheduled_start_at=at), [])
    assert op.action == LifecycleOp.LAUNCH and op.scheduled_start_at == at.isoformat()


def test_disabled_wins_over_the_status_and_removals_ride_first() -> None:
    ops = ops_for_state(Saved(enabled=False, status=CampaignStatus.PAUSED), [7, 8])
    assert [op.action for op in ops] == [LifecycleOp.REMOVE, LifecycleOp.DISABLE]
    assert ops[0].execution_ids == [7, 8]
    assert ops[1].reason == CAMPAIGN_DISABLED


@pytest.mark.parametrize(
    ("status", "action", "reason"),
    [
        (CampaignStatus.CANCELLED, LifecycleOp.CANCEL, STOPPED_BY_USER),
        (CampaignStatus.PAUSED, LifecycleOp.PAUSE, None),
        (CampaignStatus.DRAFT, LifecycleOp.NOOP, None),
        (CampaignStatus.COMPLETED, LifecycleOp.NOOP, None),
    ],
)
def test_each_saved_status_asks_its_operation(
    status: CampaignStatus, action: LifecycleOp, reason: str | None
) -> None:
    (op,) = ops_for_state(Saved(status=status), [])
    assert (op.action, op.reason) == (action, reason)


def _execution(status: str = ExecutionStatus.RUNNING) -> ExecutionState:
    return ExecutionState(
        id=1,
        campaign_id=2,
        contact_id=3,
        status=status,
        generation=1,
        deleted_at=None,
        error_message=None,
        context={},
        current_node_id=None,
        next_execution_at=None,
        started_at=None,
    )


def _campaign(status: str = CampaignStatus.ACTIVE, *, enabled: bool = True) -> CampaignState:
    return CampaignState(
        id=2,
        enabled=enabled,
        status=status,
        deleted_at=None,
        control_seq=9,
        telegram_account_id=None,
        telegram_account_ids=None,
        response_handling=None,
        sending_window=None,
        timezone="UTC",
        flow_version=1,
    )


@pytest.mark.parametrize(
    ("execution", "campaign", "halt"),
    [
        (_execution(), _campaign(), None),
        (_execution(), _campaign(enabled=False), Halt("cancel", 9, CAMPAIGN_DISABLED)),
        (_execution(), _campaign(CampaignStatus.CANCELLED), Halt("cancel", 9, STOPPED_BY_USER)),
        (_execution(), _campaign(CampaignStatus.PAUSED), Halt("pause", 9, "Campaign is paused")),
        (_execution(ExecutionStatus.PAUSED), _campaign(), Halt("pause", 9, "Execution paused")),
        (
            _execution(ExecutionStatus.COMPLETED),
            _campaign(CampaignStatus.PAUSED),
            Halt("cancel", FINAL_SEQ, "Execution completed"),
        ),
    ],
)
def test_what_the_database_tells_a_running_execution(
    execution: ExecutionState, campaign: CampaignState, halt: Halt | None
) -> None:
    assert halt_for(execution, campaign) == halt
