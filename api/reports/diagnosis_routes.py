"""Why isn't it sending? A campaign's diagnosis and one lead explained."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.authorize import Authorize, Guard
from api.campaigns.routes import Service
from api.deps import SessionDep, get_temporal
from api.domain_errors import NotFound
from api.errors import ERROR_RESPONSES
from api.policies import Action
from api.reports.diagnosis import DiagnosisService
from api.reports.leads import explain_execution
from api.reports.schemas import DiagnosisOut, ExecutionOut
from db.models import CampaignFlow
from db.repositories import diagnosis as repo

router = APIRouter(tags=["diagnosis"], responses=ERROR_RESPONSES)


def get_diagnosis(request: Request, session: SessionDep) -> DiagnosisService:
    return DiagnosisService(
        session,
        temporal=lambda: get_temporal(request),
        task_queue=request.app.state.settings.task_queue,
    )


Diagnosis = Annotated[DiagnosisService, Depends(get_diagnosis)]


@router.get("/campaign-flows/{campaign_id}/diagnosis", response_model=DiagnosisOut)
async def diagnose_campaign(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.VIEW, include_deleted=True)],
    diagnosis: Diagnosis,
) -> DiagnosisOut:
    """Why the campaign is or is not sending: a verdict and its reasons, first cause first.

    `verdict` is `sending`, `waiting` (it resumes by itself: see `until`), `blocked` (a
    person must act: see `action`) or `done`. Reasons come most severe first (blocked,
    done, waiting), so the first is the one to act on and decides the verdict; `info`
    reasons (leads by status, the next send slot, the last error) follow. `waiting`
    groups the open leads by what they wait for.
    """
    campaign = await guard()
    return await diagnosis.diagnose(campaign)


@router.get("/executions/{execution_id}", response_model=ExecutionOut)
async def explain_lead(
    execution_id: int,
    request: Request,
    service: Service,
    logs: int = Query(10, ge=0, le=100, description="How many of its newest log rows"),
) -> ExecutionOut:
    """One lead's execution: what the database says, what its workflow answers, its logs."""
    row = await repo.execution(service.session, execution_id)
    if row is None:
        raise NotFound("Execution not found")
    try:
        await service.load(row.campaign_id, Action.VIEW, include_deleted=True)
    except NotFound:
        # The same answer as for an id that does not exist: never reveal that it does.
        raise NotFound("Execution not found") from None
    return await explain_execution(
        service.session, row, temporal=lambda: get_temporal(request), log_limit=logs
    )
