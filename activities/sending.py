"""The send activity: check, rate-limit, record, send exactly once, mirror."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import rotation
from activities import send_outcomes as outcomes
from activities.contact_requirements import skip_lead
from activities.peers import PeerResolver
from activities.send_claim import Claimed, Queued, Wait, claim_turn
from activities.send_guard import (
    CATCH_UP_WAIT,
    CatchingUp,
    NotYet,
    heartbeating,
    wait_caught_up,
    wait_for_slot,
)
from activities.state import halt_for
from activities.telegram.base import Peer
from activities.telegram.pool import ProviderPool
from db import telemetry
from db.models import Contact
from db.repositories import completion, inbound, sends
from db.repositories import do_not_contact as dnc_repo
from db.repositories import executions as exec_repo
from db.repositories import messages as msg_repo
from db.repositories.executions import CampaignState
from db.repositories.messages import OutgoingMessage
from db.session import SessionFactory
from db.vocabulary import LIMITED_ACCOUNT, HaltAction, MessageStatus, SendOutcome
from workflows.pacing import window_deferral
from workflows.types import Halt, SendRequest, SendResult


@dataclass(frozen=True)
class SessionLost:
    """Telegram signed the account out during the send (handled after its transaction)."""

    account_id: int
    code: str


def random_id_for(execution_id: int, generation: int, node_id: str, visit: int) -> int:
    """Deterministic signed 64-bit id: a retry of the same planned send reuses it."""
    digest = hashlib.sha256(f"{execution_id}:{generation}:{node_id}:{visit}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def peer_of(username: str | None, phone: str | None, telegram_user_id: int | None) -> str:
    """How Telegram is asked to find the lead: username, else phone, else user id."""
    return username or phone or str(telegram_user_id)


class SendActivities:
    def __init__(
        self,
        sessions: SessionFactory,
        pool: ProviderPool,
        on_account_unauthorized: Callable[[int, str], Awaitable[dict[int, int]]],
        *,
        max_parallel: int = 10,
    ) -> None:
        # Each send holds two connections (the locking transaction and the committed
        # record); bounding sends keeps them from exhausting the pool and waiting on
        # each other.
        self._gate = asyncio.Semaphore(max_parallel)
        self._sessions = sessions
        self._pool = pool
        self._on_unauthorized = on_account_unauthorized
        self._peers = PeerResolver(sessions)

    @activity.defn(name="send_message")
    async def send_message(self, req: SendRequest) -> SendResult:
        """Send one planned message, at most once, if the database still allows it."""
        async with heartbeating():
            await wait_for_slot(req)
            result = await self._send_when_caught_up(req)
            if isinstance(result, SessionLost):
                seqs = await self._on_unauthorized(result.account_id, result.code)
                reason = f"Account unauthorized: {result.code}"
                return SendResult(
                    outcome=SendOutcome.HALTED,
                    halt=Halt(HaltAction.PAUSE, seqs.get(req.campaign_id, 0), reason),
                )
        return result

    async def _send_when_caught_up(self, req: SendRequest) -> SendResult | SessionLost:
        deadline = asyncio.get_running_loop().time() + CATCH_UP_WAIT
        while True:
            try:
                async with self._gate, self._sessions() as session, self._sessions() as aux:
                    async with session.begin():
                        result = await self._send_locked(session, aux, req)
                    if isinstance(result, SendResult) and result.finished:
                        # After the commit, as finish_execution does: see
                        # complete_campaign_if_done.
                        async with session.begin():
                            await completion.complete_campaign_if_done(session, req.campaign_id)
                    return result
            except NotYet as turn:
                await asyncio.sleep(turn.seconds)
            except CatchingUp as waiting:
                # A reply written while no listener ran must be recorded before this
                # lead's next message: wait for the account's listener, then check again.
                await wait_caught_up(self._sessions, waiting.account_id, deadline)

    async def _send_locked(
        self, session: AsyncSession, aux: AsyncSession, req: SendRequest
    ) -> SendResult | SessionLost:
        # The campaign stays share-locked until the send is recorded: a pause, stop or
        # disable waits for sends already under way and is never overtaken by a new one.
        locked = await exec_repo.lock_execution(
            session,
            req.execution_id,
            campaign_id=req.campaign_id,
            hold_campaign=True,
            also=SEND_COLUMNS,
        )
        if locked is None or locked[0].generation != req.generation or locked[0].deleted_at:
            return SendResult(outcome=SendOutcome.STALE)
        execution, campaign, (username, phone, telegram_user_id, replies, caught_up, listed) = (
            locked
        )
        # The lead's own account (rotation pins it), else the campaign's.
        account_id = execution.telegram_account_id or campaign.telegram_account_id
        accounts = rotation.accounts_of(campaign)
        telemetry.bind(account_id=account_id)
        random_id = random_id_for(execution.id, execution.generation, req.node_id, req.visit)
        retried = activity.info().attempt > 1
        if known := await settled(session, req, execution, campaign, random_id, retried=retried):
            return known
        assert account_id is not None
        # The lead's account is not the campaign's only one (or no longer the campaign's):
        # its trouble holds the lead, not the whole campaign.
        rotating = len(accounts) > 1 or account_id not in accounts
        if not caught_up:  # read in the same snapshot as `replies`
            # No worker listens on an unhealthy account: its leads wait with the reason.
            if rotating and (held := await rotation.unusable(session, account_id)):
                return await outcomes.deferred(session, execution, req, held)
            raise CatchingUp(account_id)
        if listed:
            return await outcomes.opted_out(session, execution, req)
        if campaign_stops_on_reply(campaign) and replies > req.known_replies:
            return SendResult(outcome=SendOutcome.REPLIED)
        if deferral := window_deferral(
            campaign.sending_window, campaign.timezone, datetime.now(UTC)
        ):
            return await outcomes.deferred(session, execution, req, deferral)
        planned = OutgoingMessage(
            execution_id=execution.id,
            campaign_id=campaign.id,
            account_id=account_id,
            contact_id=execution.contact_id,
            peer=peer_of(username, phone, telegram_user_id),
            random_id=random_id,
            node_id=req.node_id,
            visit=req.visit,
            generation=execution.generation,
            text=req.text,
            variant=req.variant,
        )
        if req.reserved_slot is None and activity.info().attempt > 1:
            # An earlier attempt queued this send and its answer was lost (its heartbeat
            # timed out in a busy launch): the slot it reserved, not a second one at the
            # back of the queue, which would leave the first empty and the account idle.
            kept = await sends.reserved_slot(session, execution, req.node_id, datetime.now(UTC))
            if kept is not None:
                return outcomes.reserved_again(*kept)
        claim = await claim_turn(aux, req, planned, rotating=rotating)
        if isinstance(claim, Wait):
            raise NotYet(claim.delay.total_seconds())  # nothing written yet: rolled back
        if isinstance(claim, Halt):
            return await outcomes.halted(
                session, execution, Halt(HaltAction.PAUSE, campaign.control_seq, claim.reason)
            )
        if isinstance(claim, Queued):
            return await outcomes.deferred(
                session, execution, req, claim.deferral, reserved_slot=claim.slot
            )
        if claim.message.status == MessageStatus.SENT:
            # An attempt that outlived its heartbeat while another finished the send:
            # that one wrote the logs and moved the execution; write nothing again.
            return already_sent(req, claim.message.telegram_message_id, claim.message.id)
        lead = Peer(username, phone, telegram_user_id)
        return await self._send(session, execution, req, claim, lead, random_id)

    async def _send(
        self,
        session: AsyncSession,
        execution: exec_repo.ExecutionState,
        req: SendRequest,
        claim: Claimed,
        lead: Peer,
        random_id: int,
    ) -> SendResult | SessionLost:
        """Telegram's call, then what its answer means, recorded in the locking transaction."""
        account, message = claim.account, claim.message
        try:
            provider = await self._pool.get(account)
            target = await self._peers.target(
                provider, account.id, execution.contact_id, lead, req.logs, req.node_id
            )
            if req.first_send and (needs := await provider.requirement_to_contact(target)):
                return await skip_lead(session, execution, req, message.id, needs)
            sent = await provider.send_message(target, req.text, random_id)
        except outcomes.HANDLED as err:
            consequence = outcomes.consequence_of(err, account.id, claim.now)
            if isinstance(consequence, outcomes.Defer):
                return await outcomes.deferred(
                    session, execution, req, consequence.deferral, account=consequence.account
                )
            if isinstance(consequence, outcomes.Fail):
                return await outcomes.failed(session, execution, req, message.id, consequence)
            if isinstance(consequence, outcomes.LoseSession):
                await self._pool.drop(account.id)
                # Handled after this transaction: pausing campaigns needs their row locks.
                return SessionLost(account.id, consequence.code)
            raise ApplicationError(consequence.detail) from err
        # One statement: the message sent, the execution moved on, its log rows.
        await sends.record_sent(
            session,
            execution,
            message_id=message.id,
            telegram_message_id=sent.message_id,
            next_node_id=req.next_node_id,
            finish_node_id=req.finish_node_id,
            context=req.context,
            reconnected_account=account.id if account.status in LIMITED_ACCOUNT else None,
            logs=outcomes.sent_rows(req, random_id, sent.message_id),
        )
        return SendResult(
            outcome=SendOutcome.SENT,
            telegram_message_id=sent.message_id,
            finished=req.finish_node_id is not None,
            message_row_id=message.id,
        )


async def settled(
    session: AsyncSession,
    req: SendRequest,
    execution: exec_repo.ExecutionState,
    campaign: CampaignState,
    random_id: int,
    *,
    retried: bool,
) -> SendResult | None:
    """The send's answer before it is tried, if it has one: sent by an earlier attempt
    (only a retried send can find that), or halted (paused, cancelled, ended)."""
    account_id = execution.telegram_account_id or campaign.telegram_account_id
    if retried and account_id is not None:
        # The message turns `sent` in the same transaction as its log rows and the
        # execution's move: found sent, an earlier attempt did it all and only its
        # answer was lost. Nothing is written twice (one message_sent row each).
        earlier = await msg_repo.planned_send(session, account_id, random_id)
        if earlier is not None and earlier.status == MessageStatus.SENT:
            return already_sent(req, earlier.telegram_message_id, earlier.id)
    halt = halt_for(execution, campaign)
    return None if halt is None else await outcomes.halted(session, execution, halt)


def already_sent(
    req: SendRequest, telegram_message_id: int | None, message_row_id: int
) -> SendResult:
    """An earlier attempt sent it and recorded everything: only its answer was lost."""
    return SendResult(
        outcome=SendOutcome.SENT,
        telegram_message_id=telegram_message_id,
        finished=req.finish_node_id is not None,
        message_row_id=message_row_id,
    )


PEER_COLUMNS = (Contact.username, Contact.phone, Contact.telegram_user_id)
# Read with the locked execution: the lead's peer, its replies this generation and
# whether its account's listener has caught up (one snapshot: see _send_locked) and
# whether the lead is on the do-not-contact list.
SEND_COLUMNS = (
    *PEER_COLUMNS,
    msg_repo.replies_of_execution(),
    inbound.caught_up_of_campaign(),
    dnc_repo.listed_lead(),
)


def campaign_stops_on_reply(campaign: CampaignState) -> bool:
    return bool((campaign.response_handling or {}).get("on_reply", "stop") == "stop")
