"""Diagnosis bodies: a verdict, its ordered reasons, and one lead explained."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Verdict(StrEnum):
    SENDING = "sending"
    WAITING = "waiting"
    BLOCKED = "blocked"
    DONE = "done"


class Severity(StrEnum):
    """What a reason does to the verdict: the first reason that is not `info` decides it."""

    DONE = "done"
    BLOCKED = "blocked"
    WAITING = "waiting"
    INFO = "info"


class ReasonOut(BaseModel):
    code: str
    severity: Severity
    message: str = Field(description="What is the matter, in a sentence")
    action: str | None = Field(description="What to do about it, if anything")
    until: datetime | None = Field(None, description="When it clears by itself, if it does")
    details: dict[str, Any] = Field(default_factory=dict)


class WaitingGroupOut(BaseModel):
    reason: str
    count: int
    until: datetime | None = Field(description="The earliest lead of the group moves then")
    nodes: list[str]


class DiagnosisOut(BaseModel):
    campaign_id: int
    verdict: Verdict
    checked_at: datetime
    reasons: list[ReasonOut]
    executions_by_status: dict[str, int]
    waiting: list[WaitingGroupOut]


class LogLineOut(BaseModel):
    id: int
    executed_at: datetime
    node_id: str | None
    node_type: str | None
    event_type: str
    status: str
    message_text: str | None
    details: dict[str, Any]


class ExecutionOut(BaseModel):
    """One lead's execution as the database has it, its workflow's answer and its logs."""

    execution_id: int
    campaign_id: int
    contact_id: int
    contact_name: str
    username: str | None
    status: str
    generation: int
    current_node_id: str | None
    next_execution_at: datetime | None
    waiting_reason: str | None
    waiting_until: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    error_message: str | None
    workflow_id: str
    workflow_state: dict[str, Any] | None = Field(
        description="The contact workflow's `state` query answer; null when it cannot answer"
    )
    workflow_error: str | None = Field(description="Why the state query did not answer")
    last_logs: list[LogLineOut]
