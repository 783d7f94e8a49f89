"""The dry run: what one lead would receive from a campaign, and when, without sending.

Loads what the real run would read (the campaign's current flow, the lead's fields, the
scope's reply rules, the account's state and recent sends) and walks the lead with
api.campaigns.dryrun, which decides every node with workflows.flowstep.step.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api.campaigns.dryrun import SendClock, SimReply, walk
from api.campaigns.preview_account import NewConversation, lead_account
from api.campaigns.preview_schemas import PreviewIn, PreviewOut, PreviewReplyOut, PreviewStepOut
from api.domain_errors import Invalid, NotFound
from api.policies import Actor
from db.models import CampaignFlow, Contact, TelegramAccount
from db.reply_rules import classify
from db.repositories import abtest as ab_repo
from db.repositories import do_not_contact as dnc_repo
from db.repositories import preview as repo
from workflows import flowgraph, flowstep
from workflows.pacing import DAY, HOUR, blocked, window_deferral
from workflows.templates import contact_variables

# Bounds the caller-independent part of the clock: a window that never opens, say.
_MAX_HOLDS = 200


async def preview(
    session: AsyncSession,
    actor: Actor,
    campaign: CampaignFlow,
    body: PreviewIn,
    *,
    max_sends: int,
) -> PreviewOut:
    """The lead's path through the campaign's current flow, each text and its send time."""
    try:
        flow = flowgraph.parse(campaign.flow)
    except flowgraph.FlowError as err:
        raise Invalid(f"The campaign's flow cannot run: {err}", field="flow") from err
    nodes = set(flow.nodes)
    for i, r in enumerate(body.replies):
        if r.after_node not in nodes:
            raise Invalid(
                f"replies[{i}].after_node {r.after_node!r} is not a node of the flow",
                field=f"replies.{i}.after_node",
            )
    contact_id: int | None = None
    if body.contact_id is not None:
        contact = await repo.contact_in_scope(
            session, body.contact_id, actor.user_id, actor.organization_id
        )
        if contact is None:
            raise NotFound("Contact not found", field="contact_id")
        contact_id, owner = contact.id, (contact.user_id, contact.organization_id)
        key = flowstep.choice_key(campaign.id, contact.id)
    else:
        assert body.contact is not None
        contact = Contact(**body.contact.model_dump(exclude={"telegram_user_id"}))
        owner = (actor.user_id, actor.organization_id)
        key = f"{campaign.id}:inline:{_fingerprint(body)}"
    rules = await dnc_repo.rules_for_scope(session, *owner)
    replies = [
        SimReply(r.after_node, r.text, r.after_seconds, classify(r.text, rules))
        for r in body.replies
    ]
    now = datetime.now(UTC)
    start = body.start_at or max(now, campaign.scheduled_start_at or now)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    lead = await lead_account(session, campaign, contact_id, now)
    result = walk(
        flow,
        contact_variables(contact),
        choice_key=key,
        start=start,
        replies=replies,
        send_clock=send_clock(campaign, lead.account, lead.recent, lead.new_conversation),
        on_reply=str((campaign.response_handling or {}).get("on_reply", "stop")),
        max_sends=max_sends,
        winners={d.node_id: d.winner for d in await ab_repo.decisions(session, campaign.id)},
    )
    return PreviewOut(
        campaign_id=campaign.id,
        flow_version=campaign.flow_version,
        contact_id=contact_id,
        outcome=result.stop.status,
        ended_at=result.stop.at,
        error=result.stop.error,
        steps=[
            PreviewStepOut(
                node_id=s.node_id,
                node_type=s.node_type,
                at=s.at,
                text=s.text,
                variant=s.variant,
                label=s.label,
                waited_until=s.waited_until,
                held=s.held,
                reply=_reply(s.reply) if s.reply else None,
            )
            for s in result.steps
        ],
        unused_replies=[_reply(r) for r in result.unused_replies],
        notes=lead.notes,
    )


def _reply(r: SimReply) -> PreviewReplyOut:
    return PreviewReplyOut(after_node=r.after_node, text=r.text, category=r.category, at=r.at)


def _fingerprint(body: PreviewIn) -> str:
    """An inline lead's stand-in for a contact id: the same fields choose the same way."""
    assert body.contact is not None
    raw = json.dumps(body.contact.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def send_clock(
    campaign: CampaignFlow,
    account: TelegramAccount | None,
    recent: list[datetime],
    new_conversation: NewConversation | None = None,
) -> SendClock:
    """When a send reached at a time would go: the sending window, then (the lead's first
    send) the account's cap on new conversations, then its waits, caps and minimum
    interval (workflows.pacing and workflows.warmup, in the send path's order), counting
    the account's sends of the last day and this lead's earlier ones."""

    def clock(at: datetime, sent: list[datetime]) -> tuple[datetime, list[str]]:
        held: list[str] = []

        def hold(until: datetime, why: str) -> None:
            nonlocal at
            at = until.astimezone(UTC)
            if why not in held:
                held.append(why)

        for _ in range(_MAX_HOLDS):
            if d := window_deferral(campaign.sending_window, campaign.timezone, at):
                hold(d.until, d.detail)
                continue
            if account is None:
                break
            if not sent and new_conversation and (d := new_conversation.hold(account, at)):
                hold(d.until, d.detail)
                continue
            times = [*recent, *sent]
            if b := blocked(
                account,
                at,
                sent_last_hour=[t for t in times if at - HOUR < t <= at],
                sent_last_day=[t for t in times if at - DAY < t <= at],
            ):
                hold(b.until, b.detail)
                continue
            if not sent and account.next_send_at is not None and account.next_send_at > at:
                hold(account.next_send_at, "queued behind the account's earlier sends")
                continue
            last = max(times, default=account.last_sent_at)
            interval = timedelta(seconds=account.min_interval_seconds)
            if last is not None and interval and last + interval > at:
                hold(last + interval, f"minimum interval {account.min_interval_seconds}s")
                continue
            break
        return at, held

    return clock
