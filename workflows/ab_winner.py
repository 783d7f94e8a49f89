"""The contact workflow's side of automatic A/B winners: ask once per lead at the node.

Only nodes with `auto_winner` ask, and only in workflows that recorded the patch marker,
so histories stored before the feature replay with the same commands.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.abtest import AbTestActivities
    from workflows import abtest, flowgraph
    from workflows.types import ContactInput

PATCH = "ab-auto-winner"
TIMEOUT = timedelta(seconds=10)
# The winner only saves leads from a weaker branch: when the database cannot say, the lead
# draws by weight as it would without auto_winner rather than wait.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)


async def winner(flow: flowgraph.Flow, node: flowgraph.Node, inp: ContactInput) -> str | None:
    """The decided winner of this A/B node (a target or a variant name), else None."""
    config = abtest.settings(node.data)
    if config is None or not workflow.patched(PATCH):
        return None
    try:
        result = await workflow.execute_local_activity_method(
            AbTestActivities.ab_winner,
            abtest.WinnerRequest(
                campaign_id=inp.campaign_id,
                execution_id=inp.execution_id,
                generation=inp.generation,
                node_id=node.id,
                node_type=node.type,
                arms=flow.arms(node),
                metric=config.metric,
                min_sample=config.min_sample,
                confidence=config.confidence,
            ),
            start_to_close_timeout=TIMEOUT,
            retry_policy=RETRY,
        )
    except ActivityError:
        return None
    return result.winner

