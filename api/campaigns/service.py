"""Campaign use cases: CRUD, lifecycle actions and contacts, database first, then Temporal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.authorize import load_campaign, require
from api.campaigns.accounts import campaign_accounts, launchable_accounts
from api.campaigns.addressing import (
    require_addressable,
    require_contacts_in_scope,
)
from api.campaigns.prelaunch import require_ready
from api.campaigns.schemas import CampaignCreate, CampaignUpdate
from api.domain_errors import Conflict, Invalid, Unavailable
from api.policies import Action, Actor
from db.models import CampaignFlow
from db.repositories import campaigns as repo
from db.vocabulary import (
    CAMPAIGN_DISABLED,
    STOPPED_BY_USER,
    CampaignStatus,
    LifecycleOp,
)
from workflows.dispatch import submit_op
from workflows.lifecycle import LOCKED_WHILE_ACTIVE
from workflows.types import CampaignOp

NOT_NULL = frozenset({"name", "timezone", "flow", "response_handling"})


def _now() -> datetime:
    return datetime.now(UTC)


class CampaignService:
    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        *,
        temporal: Callable[[], Awaitable[Client]],
        task_queue: str,
    ) -> None:
        self.session = session
        self.actor = actor
        self._temporal = temporal
        self._task_queue = task_queue

    async def load(
        self, campaign_id: int, action: Action, *, include_deleted: bool = False
    ) -> CampaignFlow:
        """The campaign if the actor may perform the action on it, for an id that is not
        the route's path parameter (routes take theirs from api.authorize.Authorize)."""
        return await load_campaign(
            self.session, self.actor, campaign_id, action, include_deleted=include_deleted
        )

    async def create(self, body: CampaignCreate) -> CampaignFlow:
        first, ids = await campaign_accounts(
            self.session, self.actor, body.telegram_account_id, body.telegram_account_ids
        )
        campaign = CampaignFlow(
            name=body.name,
            description=body.description,
            telegram_account_id=first,
            telegram_account_ids=ids,
            timezone=body.timezone,
            scheduled_start_at=body.scheduled_start_at,
            sending_window=body.sending_window.model_dump() if body.sending_window else None,
            ab_test=body.ab_test,
            response_handling=body.response_handling.model_dump(),
            flow=body.flow.document(),
            created_by=self.actor.user_id,
            organization_id=self.actor.organization_id,
            status=CampaignStatus.DRAFT,
            enabled=True,
        )
        self.session.add(campaign)
        await self.session.flush()
        if body.contact_ids:
            await require_contacts_in_scope(self.session, self.actor, body.contact_ids)
            await repo.add_executions(self.session, campaign.id, body.contact_ids)
        await self.session.commit()
        return campaign

    async def update(self, campaign: CampaignFlow, body: CampaignUpdate) -> CampaignFlow:
        """Authorized for EDIT_METADATA; a new flow also needs EDIT_FLOW."""
        changes = body.model_dump(exclude_unset=True)
        if "flow" in changes:
            require(self.actor, campaign, Action.EDIT_FLOW)
        if campaign.status == CampaignStatus.ACTIVE and LOCKED_WHILE_ACTIVE & changes.keys():
            raise Conflict("A/B test settings cannot change while the campaign is active")
        if {"telegram_account_id", "telegram_account_ids"} & changes.keys():
            first, ids = await campaign_accounts(
                self.session,
                self.actor,
                changes.pop("telegram_account_id", None),
                changes.pop("telegram_account_ids", None),
                first_set="telegram_account_id" in body.model_fields_set,
                ids_set="telegram_account_ids" in body.model_fields_set,
            )
            changes.update(telegram_account_id=first, telegram_account_ids=ids)
        for key, value in changes.items():
            if key in NOT_NULL and value is None:
                raise Invalid(f"{key} cannot be null", field=key)
            setattr(campaign, key, value)
        if "flow" in changes:
            campaign.flow_version += 1
        campaign.updated_at = _now()
        await self.session.commit()
        await self.session.refresh(campaign)
        return campaign

    async def delete(self, campaign: CampaignFlow) -> None:
        campaign.deleted_at = _now()
        pause = campaign.status in (CampaignStatus.ACTIVE, CampaignStatus.SCHEDULED)
        if pause:
            # A deleted campaign sends nothing more; restore and launch to go on.
            campaign.status = CampaignStatus.PAUSED
        await self._commit_and_submit(campaign, LifecycleOp.PAUSE if pause else None)

    async def restore(self, campaign: CampaignFlow) -> CampaignFlow:
        if campaign.deleted_at is None:
            raise Conflict("Campaign is not deleted", code="not_deleted")
        campaign.deleted_at = None
        campaign.updated_at = _now()
        await self.session.commit()
        return campaign

    async def duplicate(self, source: CampaignFlow) -> CampaignFlow:
        copy = CampaignFlow(
            name=f"{source.name} (Copy)"[:200],
            description=source.description,
            telegram_account_id=source.telegram_account_id,
            telegram_account_ids=source.telegram_account_ids,
            timezone=source.timezone,
            sending_window=source.sending_window,
            ab_test=source.ab_test,
            response_handling=source.response_handling,
            flow=source.flow,
            created_by=self.actor.user_id,
            organization_id=source.organization_id,
            status=CampaignStatus.DRAFT,
            enabled=True,
        )
        self.session.add(copy)
        await self.session.commit()
        return copy

    async def launch(self, campaign: CampaignFlow) -> CampaignFlow:
        if not campaign.enabled:
            raise Conflict("Campaign is disabled; enable it before launching", code="disabled")
        if campaign.telegram_account_id is None:
            raise Conflict("Campaign has no Telegram account", code="no_account")
        healthy = await launchable_accounts(self.session, campaign)
        if await repo.count_executions(self.session, campaign.id) == 0:
            raise Conflict("Add at least one contact before launching", code="no_contacts")
        for account in healthy:
            await require_addressable(self.session, account.id, campaign_id=campaign.id)
        await require_ready(self.session, campaign)
        now = datetime.now(UTC)
        scheduled = campaign.scheduled_start_at is not None and campaign.scheduled_start_at > now
        campaign.status_reason = None  # a user decided this status
        campaign.status = CampaignStatus.SCHEDULED if scheduled else CampaignStatus.ACTIVE
        if scheduled and campaign.scheduled_start_at is not None:
            await repo.schedule_pending(self.session, campaign.id, campaign.scheduled_start_at)
        await self._commit_and_submit(
            campaign,
            LifecycleOp.LAUNCH,
            reset_completed=True,
            scheduled_start_at=(
                campaign.scheduled_start_at.isoformat()
                if scheduled and campaign.scheduled_start_at
                else None
            ),
        )
        return campaign

    async def pause(self, campaign: CampaignFlow) -> CampaignFlow:
        campaign.status = CampaignStatus.PAUSED
        campaign.status_reason = None
        await self._commit_and_submit(campaign, LifecycleOp.PAUSE)
        return campaign

    async def stop(self, campaign: CampaignFlow) -> CampaignFlow:
        campaign.status_reason = None  # a user decided this status
        campaign.status = CampaignStatus.CANCELLED
        await self._commit_and_submit(campaign, LifecycleOp.CANCEL, reason=STOPPED_BY_USER)
        return campaign

    async def set_enabled(self, campaign: CampaignFlow, enabled: bool) -> CampaignFlow:
        if campaign.enabled == enabled:
            return campaign
        campaign.enabled = enabled
        # The status stays as it was (the seed); disabling cancels what runs
        # (workflows.lifecycle.disable_statuses), and enabling starts nothing.
        await self._commit_and_submit(
            campaign, None if enabled else LifecycleOp.DISABLE, reason=CAMPAIGN_DISABLED
        )
        return campaign

    async def add_contacts(
        self,
        campaign: CampaignFlow,
        contact_ids: Sequence[int],
        *,
        allow_other_campaigns: bool = False,
    ) -> tuple[int, int, int]:
        """(added, already in this campaign, skipped as in another campaign)."""
        await require_contacts_in_scope(self.session, self.actor, contact_ids)
        await require_addressable(
            self.session, campaign.telegram_account_id, contact_ids=contact_ids
        )
        busy: set[int] = set()
        if not allow_other_campaigns:
            # One conversation per lead: not while another campaign is writing to it.
            busy = await repo.in_other_campaigns(self.session, campaign.id, contact_ids)
            contact_ids = [c for c in contact_ids if c not in busy]
        added = await repo.add_executions(self.session, campaign.id, contact_ids)
        if (
            added
            and campaign.status == CampaignStatus.SCHEDULED
            and campaign.scheduled_start_at is not None
        ):
            await repo.schedule_pending(self.session, campaign.id, campaign.scheduled_start_at)
        unique = len(set(contact_ids))
        action = None
        if (
            added
            and campaign.enabled
            and campaign.status in (CampaignStatus.ACTIVE, CampaignStatus.COMPLETED)
        ):
            campaign.status = CampaignStatus.ACTIVE
            action = LifecycleOp.LAUNCH
        await self._commit_and_submit(campaign, action)
        return added, unique - added, len(busy)

    async def remove_contacts(self, campaign: CampaignFlow, contact_ids: Sequence[int]) -> int:
        removed = await repo.soft_delete_executions(self.session, campaign.id, contact_ids)
        await self._commit_and_submit(
            campaign,
            LifecycleOp.REMOVE if removed else None,
            reason="Contact removed from campaign",
            execution_ids=removed,
        )
        return len(removed)

    async def _commit_and_submit(
        self, campaign: CampaignFlow, action: str | None, **op: Any
    ) -> None:
        """Database first; then Temporal, which replays the newest state if told twice."""
        if action is not None:
            campaign.control_seq += 1
        campaign.updated_at = _now()
        await self.session.commit()
        if action is None:
            return
        try:
            client = await self._temporal()
            await submit_op(
                client,
                task_queue=self._task_queue,
                campaign_id=campaign.id,
                organization_id=campaign.organization_id,
                op=CampaignOp(seq=campaign.control_seq, action=action, **op),
            )
        except Unavailable:
            raise
        except Exception as err:
            raise Unavailable(
                f"Saved, but Temporal could not be told ({type(err).__name__}); repeat the action"
            ) from err
