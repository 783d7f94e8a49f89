"""Dry run bodies: a lead, simulated replies, and the path the lead would take."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.directory.schemas import ContactIn
from workflows.limits import MAX_SIMULATED_REPLIES, MAX_WAIT_SECONDS


class PreviewContact(ContactIn):
    """A lead given inline; no handle is needed, since nothing is sent."""

    @model_validator(mode="after")
    def _one_handle(self) -> PreviewContact:
        if self.username:
            self.username = self.username.lstrip("@")
        return self


class SimulatedReply(BaseModel):
    """A reply the lead sends `after_seconds` after the run reaches (or sends at) a node."""

    model_config = ConfigDict(extra="forbid")

    after_node: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4096)
    after_seconds: int = Field(default=0, ge=0, le=MAX_WAIT_SECONDS)


class PreviewIn(BaseModel):
    """Exactly one of `contact_id` (a contact the caller may see) or `contact` (inline)."""

    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    contact: PreviewContact | None = None
    replies: list[SimulatedReply] = Field(default_factory=list, max_length=MAX_SIMULATED_REPLIES)
    start_at: datetime | None = Field(
        default=None,
        description="When the lead starts (default now, or the campaign's scheduled start)",
    )

    @model_validator(mode="after")
    def _one_lead(self) -> PreviewIn:
        if (self.contact_id is None) == (self.contact is None):
            raise ValueError("give exactly one of contact_id or contact")
        return self


class PreviewReplyOut(BaseModel):
    after_node: str
    text: str
    category: str
    at: datetime | None = Field(
        description="When it arrives; null if the run never reaches after_node"
    )


class PreviewStepOut(BaseModel):
    """One node the lead passes through."""

    node_id: str
    node_type: str
    at: datetime = Field(description="When the node runs; for a send, when it would go")
    text: str | None = Field(default=None, description="The rendered message, for a send")
    variant: str | None = None
    label: str | None = Field(
        default=None, description="The edge taken: true/false, replied/no_reply, the branch"
    )
    waited_until: datetime | None = Field(default=None, description="A wait's end")
    held: list[str] = Field(
        default_factory=list, description="Why a send goes later than it is reached"
    )
    reply: PreviewReplyOut | None = Field(default=None, description="The reply heard here")


class PreviewOut(BaseModel):
    """The path a lead would take, each text, and when; nothing was sent."""

    campaign_id: int
    flow_version: int
    contact_id: int | None
    outcome: str = Field(description="How the run would end: completed, responded, failed…")
    ended_at: datetime
    error: str | None = None
    steps: list[PreviewStepOut]
    unused_replies: list[PreviewReplyOut] = Field(
        default_factory=list, description="Replies whose after_node the path never reaches"
    )
    notes: list[str] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
