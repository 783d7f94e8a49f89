"""The one place that decides, from the database, whether an execution may go on."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Protocol

from db.models.executions import TERMINAL
from db.repositories.executions import CampaignState, ExecutionState
from workflows.types import Halt, LogEntry

# An execution ended in the database overrides any later signal.
FINAL_SEQ = 2**62


def halt_for(execution: ExecutionState, campaign: CampaignState) -> Halt | None:
    if execution.status in TERMINAL:
        return Halt("cancel", FINAL_SEQ, execution.error_message or f"Execution {execution.status}")
    if not campaign.enabled:
        return Halt("cancel", campaign.control_seq, "Campaign disabled")
    if campaign.status == "cancelled":
        return Halt("cancel", campaign.control_seq, "Campaign stopped by user")
    if campaign.status != "active" or campaign.deleted_at is not None:
        return Halt("pause", campaign.control_seq, f"Campaign is {campaign.status}")
    if execution.status == "paused":
        return Halt("pause", campaign.control_seq, "Execution paused")
    return None


class _Lead(Protocol):
    @property
    def first_name(self) -> str | None: ...
    @property
    def last_name(self) -> str | None: ...
    @property
    def username(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def tags(self) -> list[str] | None: ...
    @property
    def custom_fields(self) -> dict[str, Any] | None: ...


def contact_variables(contact: _Lead | None) -> dict[str, Any]:
    if contact is None:
        return {}
    fields = {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "username": contact.username,
        "phone": contact.phone,
        "tags": list(contact.tags or []),
    }
    custom = dict(contact.custom_fields or {})
    return {**custom, **fields, "contact": {**fields, "custom": custom, **custom}}


def log_rows(entries: list[LogEntry]) -> list[dict[str, Any]]:
    return [asdict(e) for e in entries]
