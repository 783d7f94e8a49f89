"""Client-side helpers that hand campaign operations to Temporal (used by api and worker)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from workflows.types import (
    CONTROL_WORKFLOW,
    SUBMIT_SIGNAL,
    CampaignOp,
    ControlInput,
    control_task_queue,
    control_workflow_id,
)

CAMPAIGN_ID = SearchAttributeKey.for_keyword("CampaignId")
ORGANIZATION_ID = SearchAttributeKey.for_keyword("OrganizationId")


def _attributes(campaign_id: int, organization_id: int | None) -> TypedSearchAttributes:
    pairs = [SearchAttributePair(CAMPAIGN_ID, str(campaign_id))]
    if organization_id is not None:
        pairs.append(SearchAttributePair(ORGANIZATION_ID, str(organization_id)))
    return TypedSearchAttributes(pairs)


search_attributes_for = _attributes


async def submit_op(
    client: Client,
    *,
    task_queue: str,
    campaign_id: int,
    organization_id: int | None,
    op: CampaignOp,
    search_attributes: bool = True,
) -> None:
    """Queue an operation on the campaign's control workflow, starting it when idle.

    task_queue is the contact workflows' queue; the control workflow runs on its
    control queue.
    """
    attributes = _attributes(campaign_id, organization_id) if search_attributes else None
    await client.start_workflow(
        CONTROL_WORKFLOW,
        ControlInput(campaign_id=campaign_id, organization_id=organization_id),
        id=control_workflow_id(campaign_id),
        task_queue=control_task_queue(task_queue),
        start_signal=SUBMIT_SIGNAL,
        start_signal_args=[op],
        search_attributes=attributes,
    )
