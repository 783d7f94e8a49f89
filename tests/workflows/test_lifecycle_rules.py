"""The fan-out's pure planning: what a launch page resets, resumes and starts."""

from __future__ import annotations

from workflows.lifecycle import PageRow, disable_statuses, page_statuses, plan_launch_page

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
