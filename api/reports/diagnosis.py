"""Why a campaign is (not) sending: the checks of the troubleshooting pages, in order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.reports import pace
from api.reports.pace import local_time, reason
from api.reports.rotation_diagnosis import account_reasons, sending_account
from api.reports.schemas import (
    DiagnosisOut,
    ReasonOut,
    Severity,
    Verdict,
    WaitingGroupOut,
)
from db.models import CampaignFlow, TelegramAccount
from db.repositories import diagnosis as repo
from db.vocabulary import AccountStatus, CampaignStatus, ExecutionStatus
from workflows import flowgraph
from workflows.inspection import live_pollers
from workflows.types import account_task_queue, control_task_queue

# Accounts that cannot send until a person acts, and what that person does.
UNHEALTHY: dict[str, str] = {
    AccountStatus.UNAUTHORIZED: (
        "Reconnect the account: log in again or give it a new session string"
    ),
    AccountStatus.BANNED: "Telegram banned this account; give the campaign another account",
    AccountStatus.PENDING_LOGIN: "Finish the account's login (code, then password if asked)",
}


RANK = {Severity.BLOCKED: 0, Severity.DONE: 1, Severity.WAITING: 2, Severity.INFO: 3}


class DiagnosisService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        temporal: Callable[[], Awaitable[Client]],
        task_queue: str,
    ) -> None:
        self.session = session
        self._temporal = temporal
        self._task_queue = task_queue

    async def diagnose(self, campaign: CampaignFlow) -> DiagnosisOut:
        """The verdict and its reasons: what stops the campaign first, then what slows it."""
        now = await repo.database_now(self.session)
        by_status = await repo.count_by_status(self.session, campaign.id)
        groups = await repo.open_groups(self.session, campaign.id)
        waiting = pace.merged_groups([pace.waiting_group(campaign, g) for g in groups])
        account = await sending_account(self.session, campaign)
        reasons: list[ReasonOut] = []
        reasons += self._lifecycle(campaign, by_status, account)
        runs = campaign.status in (CampaignStatus.ACTIVE, CampaignStatus.SCHEDULED)
        open_leads = sum(g.count for g in groups)
        if runs or campaign.control_seq > campaign.applied_seq:
            reasons += await self._workers(campaign, account)
        if runs and open_leads:
            reasons += pace.account_waits(account, now)
            reasons += await pace.caps(self.session, account, now)
            reasons += pace.window(campaign, now)
        if campaign.control_seq > campaign.applied_seq:
            reasons.append(
                reason(
                    "fanout_in_progress",
                    Severity.WAITING,
                    f"The campaign's last action (#{campaign.control_seq}) is still being "
                    f"carried out to its leads (done up to #{campaign.applied_seq})",
                    "Wait: large campaigns take a minute per few thousand leads",
                    control_seq=campaign.control_seq,
                    applied_seq=campaign.applied_seq,
                )
            )
        if runs and open_leads:
            reasons += await account_reasons(self.session, campaign)
            reasons += pace.leads(waiting, now)
        # Most severe first, in the order above within a severity: the first reason is
        # the one to act on, and it decides the verdict.
        reasons.sort(key=lambda r: RANK[r.severity])
        reasons += await self._history(campaign, account, by_status, waiting)
        first = reasons[0].severity if reasons else Severity.INFO
        verdict = Verdict.SENDING if first == Severity.INFO else Verdict(first.value)
        return DiagnosisOut(
            campaign_id=campaign.id,
            verdict=verdict,
            checked_at=now,
            reasons=reasons,
            executions_by_status=by_status,
            waiting=[w for w in waiting if w.reason != ExecutionStatus.RUNNING],
        )

    def _lifecycle(
        self, campaign: CampaignFlow, by_status: dict[str, int], account: TelegramAccount | None
    ) -> list[ReasonOut]:
        """Status, enabled flag, account, contacts and flow: what needs a person to act."""
        status = campaign.status
        if campaign.deleted_at is not None:
            return [
                reason(
                    "deleted",
                    Severity.BLOCKED,
                    "The campaign is deleted (and paused)",
                    "Restore it, then launch it",
                )
            ]
        if status == CampaignStatus.CANCELLED:
            return [
                reason(
                    status,
                    Severity.DONE,
                    "The campaign was stopped; its open leads were cancelled",
                    "Duplicate it to run it again",
                )
            ]
        if not campaign.enabled:
            # First even when every lead has ended: nothing runs again until it is enabled.
            return [
                reason(
                    "disabled",
                    Severity.BLOCKED,
                    "The campaign is disabled: its open leads were cancelled and it cannot "
                    "be launched",
                    "Enable it, then launch it",
                )
            ]
        if status == CampaignStatus.COMPLETED:
            return [
                reason(
                    status,
                    Severity.DONE,
                    "Every lead has finished",
                    "Add contacts to send to more leads",
                )
            ]
        out: list[ReasonOut] = []
        if account is None or account.deleted_at is not None:
            out.append(
                reason(
                    "no_account",
                    Severity.BLOCKED,
                    "The campaign has no Telegram account to send from",
                    "Choose an account in the campaign's settings",
                )
            )
        elif account.status in UNHEALTHY:
            out.append(
                reason(
                    f"account_{account.status}",
                    Severity.BLOCKED,
                    f"The account {account.display_name or account.phone} is {account.status}"
                    + (f": {account.status_reason}" if account.status_reason else ""),
                    UNHEALTHY[account.status],
                    account_id=account.id,
                )
            )
        if not by_status:
            out.append(
                reason(
                    "no_contacts",
                    Severity.BLOCKED,
                    "The campaign has no contacts",
                    "Add contacts to the campaign",
                )
            )
        try:
            flowgraph.parse(campaign.flow)
        except flowgraph.FlowError as err:
            out.append(
                reason(
                    "invalid_flow", Severity.BLOCKED, f"The flow is invalid: {err}", "Fix the flow"
                )
            )
        if status == CampaignStatus.DRAFT:
            out.append(
                reason("not_launched", Severity.BLOCKED, "The campaign is a draft", "Launch it")
            )
        elif status == CampaignStatus.PAUSED:
            out.append(
                reason(
                    "paused",
                    Severity.BLOCKED,
                    "The campaign is paused; its leads keep their place",
                    "Launch it to resume",
                )
            )
        elif status == CampaignStatus.SCHEDULED and campaign.scheduled_start_at is not None:
            out.append(
                reason(
                    "scheduled",
                    Severity.WAITING,
                    "The campaign starts at "
                    + local_time(campaign.scheduled_start_at, campaign.timezone),
                    None,
                    campaign.scheduled_start_at,
                )
            )
        return out

    async def _workers(
        self, campaign: CampaignFlow, account: TelegramAccount | None
    ) -> list[ReasonOut]:
        """Is a worker polling each queue this campaign needs?"""
        queues = [
            (self._task_queue, False, "contact workflows"),
            (control_task_queue(self._task_queue), False, "campaign control (fan-out)"),
        ]
        if account is not None and account.provider == "telethon":
            queues.append((account_task_queue(account.id), True, "the account's sends"))
        try:
            client = await self._temporal()
            idle = [
                (queue, what)
                for queue, activities, what in queues
                if await live_pollers(client, queue, activities=activities) == 0
            ]
        except Exception as err:
            return [
                reason(
                    "temporal_unreachable",
                    Severity.BLOCKED,
                    f"Temporal could not be asked ({type(err).__name__})",
                    "Start Temporal, or check TEMPORAL_ADDRESS",
                )
            ]
        return [
            reason(
                "no_worker",
                Severity.BLOCKED,
                f"No worker polls the task queue {queue!r} ({what})",
                "Start a worker: `tgflows worker` (or `make dev`)",
                task_queue=queue,
            )
            for queue, what in idle
        ]

    async def _history(
        self,
        campaign: CampaignFlow,
        account: TelegramAccount | None,
        by_status: dict[str, int],
        waiting: list[WaitingGroupOut],
    ) -> list[ReasonOut]:
        out = [
            reason(
                "executions",
                Severity.INFO,
                ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())) or "no executions",
                None,
                by_status=by_status,
                waiting=[w.model_dump(mode="json") for w in waiting],
            )
        ]
        error = await repo.last_error(self.session, campaign.id)
        if error is not None:
            out.append(
                reason(
                    "last_error",
                    Severity.INFO,
                    f"Last failed lead: {error[0]}",
                    "See the logs: ?status=failed",
                    None,
                    at=error[1].isoformat(),
                    failed=by_status.get(ExecutionStatus.FAILED, 0),
                )
            )
        if account is not None and account.status_reason and account.status not in UNHEALTHY:
            out.append(
                reason(
                    "account_note",
                    Severity.INFO,
                    f"The account's last status note: {account.status_reason}",
                    None,
                    status=account.status,
                )
            )
        return out
