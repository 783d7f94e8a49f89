"""The one place that decides, from the database, whether an execution may go on."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from db.models.executions import TERMINAL
from db.repositories.executions import CampaignState, ExecutionState
from db.vocabulary import (
    CAMPAIGN_DISABLED,
    STOPPED_BY_USER,
    CampaignStatus,
    ExecutionStatus,
    HaltAction,
)
from workflows.types import Halt, LogEntry

# An execution ended in the database overrides any later signal.
FINAL_SEQ = 2**62


def halt_for(execution: ExecutionState, campaign: CampaignState) -> Halt | None:
    if execution.status in TERMINAL:
        return Halt(
            HaltAction.CANCEL, FINAL_SEQ, execution.error_message or f"Execution {execution.status}"
        )
    if not campaign.enabled:
        return Halt(HaltAction.CANCEL, campaign.control_seq, CAMPAIGN_DISABLED)
    if campaign.status == CampaignStatus.CANCELLED:
        return Halt(HaltAction.CANCEL, campaign.control_seq, STOPPED_BY_USER)
    if campaign.status != CampaignStatus.ACTIVE or campaign.deleted_at is not None:
        return Halt(HaltAction.PAUSE, campaign.control_seq, f"Campaign is {campaign.status}")
    if execution.status == ExecutionStatus.PAUSED:
        return Halt(HaltAction.PAUSE, campaign.control_seq, "Execution paused")
    return None


def log_rows(entries: list[LogEntry]) -> list[dict[str, Any]]:
    return [asdict(e) for e in entries]
