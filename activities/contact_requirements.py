"""Leads Telegram will not let this account write to: skipped before the first send.

users.getRequirementsToContact says whether a user accepts messages only from Premium
senders or only for Telegram Stars. Asked once per run, before the lead's first
message (SendRequest.first_send): such a lead ends `skipped` with the reason and one
log row, rather than failing at send time with PRIVACY_PREMIUM_REQUIRED.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from activities.state import log_rows
from activities.telegram.base import ContactRequirement
from db.repositories import executions as exec_repo
from db.repositories import messages as msg_repo
from db.repositories.executions import ExecutionState
from db.repositories.writes import CLOCK
from db.vocabulary import ExecutionStatus, LogEvent, LogStatus, NodeType
from workflows.types import SendRequest, SendResult


async def skip_lead(
    session: AsyncSession,
    execution: ExecutionState,
    req: SendRequest,
    message_id: int,
    requirement: ContactRequirement,
) -> SendResult:
    """End the execution `skipped` with the requirement as its reason; nothing is sent.

    The message's claimed row is marked failed, so it counts in no cap.
    """
    reason = f"Skipped: {requirement.reason}"
    details: dict[str, object] = {"reason": requirement.code}
    if requirement.stars:
        details["stars"] = requirement.stars
    await exec_repo.save_execution(
        session,
        execution,
        {
            "status": ExecutionStatus.SKIPPED,
            "error_message": reason,
            "completed_at": CLOCK,
            "next_execution_at": None,
        },
        [
            *log_rows(req.logs),
            {
                "node_id": req.node_id,
                "node_type": NodeType.SEND_MESSAGE,
                "event_type": LogEvent.CAMPAIGN_ACTIVITY,
                "status": LogStatus.SKIPPED,
                "message_text": req.text,
                "details": details,
                "visit": req.visit,
            },
        ],
        with_=[msg_repo.message_update(message_id, status="failed", error=requirement.code)],
    )
    req.logs = []
    return SendResult(outcome=ExecutionStatus.SKIPPED, error=reason, finished=True)
