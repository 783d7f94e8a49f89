"""Turns replies and read receipts on leased accounts into signals, rows and logs."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities import metrics
from activities.replies import classify_reply
from activities.telegram.base import Cursor, TelegramError, Unauthorized, Update
from activities.telegram.pool import ProviderPool
from db import telemetry
from db.models import FlowExecution, Message, TelegramAccount
from db.models.executions import TERMINAL
from db.repositories import execution_logs, inbound, peers
from db.repositories import executions as exec_repo
from db.repositories import messages as msg_repo
from db.session import SessionFactory
from db.vocabulary import LogEvent, LogStatus, NodeType
from workflows.types import REPLY_SIGNAL, ReplySignal, contact_workflow_id

log = logging.getLogger(__name__)
POLL_SECONDS = 20.0
UNAUTHORIZED_BACKOFF = 30.0
# A reply's signal is retried for this long while Temporal does not answer.
SIGNAL_RETRY_FIRST = 0.5
SIGNAL_RETRY_FOR = 120.0


class ReplyListener:
    """Reads one account's updates from where the last listener stopped (the stored
    offset or update state), so a restart, or no worker at all for a while, misses
    nothing; then says the account is caught up, which lets its sends go on."""

    def __init__(
        self, sessions: SessionFactory, pool: ProviderPool, client: Client, owner: str
    ) -> None:
        self._sessions = sessions
        self._pool = pool
        self._client = client
        self._owner = owner

    async def listen(self, account: TelegramAccount) -> None:
        telemetry.bind(account_id=account.id)
        cursor: Cursor | None = None
        caught_up = False
        while True:
            try:
                provider = await self._pool.get(account)
                if cursor is None:
                    async with self._sessions() as session:
                        offset, state = await inbound.load_cursor(session, account.id)
                    cursor = Cursor(offset if provider.durable_offsets else 0, state)
                # The first fetch does not wait: what is there is what was missed.
                updates = await provider.get_updates(cursor, POLL_SECONDS if caught_up else 0)
            except Unauthorized:
                # The health check marks the account, which then is no longer leased.
                await asyncio.sleep(UNAUTHORIZED_BACKOFF)
                continue
            except TelegramError as err:
                log.warning("account %s: updates failed: %s", account.id, type(err).__name__)
                await asyncio.sleep(2)
                continue
            for update in updates:
                await self.handle(account.id, update, durable=provider.durable_offsets)
                cursor = Cursor(
                    update.offset if provider.durable_offsets else cursor.offset,
                    update.state if update.state is not None else cursor.state,
                )
            if not caught_up:
                async with self._sessions.begin() as session:
                    await inbound.mark_caught_up(session, account.id, self._owner)
                caught_up = True
                if updates:
                    log.info("account %s: caught up on %d update(s)", account.id, len(updates))

    async def handle(self, account_id: int, update: Update, *, durable: bool = True) -> None:
        signals: list[tuple[str, ReplySignal]] = []
        async with self._sessions.begin() as session:
            # Under the account's row lock: a listener that lost its lease while another
            # took over (or any two overlapping listeners) never handles an update twice.
            stored = await inbound.lock_offset(session, account_id)
            if durable and stored is not None and update.offset <= stored:
                return
            if update.kind == "message":
                # Without durable offsets a difference fetched again after a crash
                # repeats messages; Telegram's message ids tell them apart.
                if (
                    durable
                    or update.message_id is None
                    or not await inbound.reply_recorded(session, account_id, update.message_id)
                ):
                    signals = await self._on_reply(session, account_id, update)
                    metrics.observe_reply(account_id, update.date)
                    if update.user_id is not None and update.access_hash is not None:
                        await peers.learn_from_sender(
                            session, account_id, update.user_id, update.access_hash
                        )
            elif update.kind == "read" and update.max_id is not None:
                await self._on_read(session, account_id, update)
            if durable:
                await inbound.set_offset(session, account_id, update.offset)
            if update.state is not None:
                await inbound.set_state(session, account_id, update.state)
        for workflow_id, signal in signals:
            await self._signal(workflow_id, signal)

    async def _signal(self, workflow_id: str, signal: ReplySignal) -> None:
        """Tell the lead's workflow, retrying while Temporal is unreachable.

        The reply is already recorded, so a workflow never told still finds it at its
        next send (which then does not go out); but a wait_for_reply would time out, so
        the signal is retried, and one workflow's failure does not skip the others.
        """
        delay = SIGNAL_RETRY_FIRST
        deadline = asyncio.get_running_loop().time() + SIGNAL_RETRY_FOR
        while True:
            try:
                await self._client.get_workflow_handle(workflow_id).signal(REPLY_SIGNAL, signal)
                return
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    return  # the execution already ended
                if asyncio.get_running_loop().time() + delay > deadline:
                    log.error(
                        "reply to %s recorded but not signalled: %s (%s)",
                        workflow_id,
                        err.status.name if err.status else "error",
                        err.message,
                    )
                    return
                log.warning("reply to %s: signal failed, retrying: %s", workflow_id, err.message)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _on_read(self, session: AsyncSession, account_id: int, update: Update) -> None:
        assert update.max_id is not None
        for message in await msg_repo.mark_read(
            session, account_id, update.peer, update.max_id, update.user_id
        ):
            if message.execution_id is None:
                continue
            execution = await exec_repo.by_id(session, message.execution_id)
            if execution is not None:
                await execution_logs.add_logs(
                    session,
                    execution,
                    [
                        {
                            "node_id": message.node_id,
                            "node_type": NodeType.SEND_MESSAGE,
                            "event_type": LogEvent.MESSAGE_READ,
                            "status": LogStatus.READ,
                            "message_text": message.text,
                            "details": {"telegram_message_id": message.telegram_message_id},
                        }
                    ],
                )

    async def _on_reply(
        self, session: AsyncSession, account_id: int, update: Update
    ) -> list[tuple[str, ReplySignal]]:
        executions = await inbound.executions_for_reply(
            session, account_id, update.peer, update.user_id
        )
        signals = []
        text = update.text or ""
        targets: list[FlowExecution | None] = list(executions) or [None]
        for execution in targets:
            message = Message(
                execution_id=execution.id if execution else None,
                campaign_id=execution.campaign_id if execution else None,
                contact_id=execution.contact_id if execution else None,
                account_id=account_id,
                direction="in",
                peer=update.peer,
                generation=execution.generation if execution else 1,
                text=text,
                status="received",
                telegram_message_id=update.message_id,
            )
            session.add(message)
            if execution is None:
                continue
            message.reply_category = category = await classify_reply(session, execution, text)
            await session.flush()
            await execution_logs.add_logs(
                session,
                execution,
                [
                    {
                        "node_id": execution.current_node_id,
                        "event_type": LogEvent.RESPONSE_DETECTED,
                        "status": LogStatus.REPLIED,
                        "message_text": text,
                        "details": {
                            "telegram_message_id": update.message_id,
                            "category": category,
                        },
                    }
                ],
            )
            if execution.status not in TERMINAL:
                signals.append(
                    (
                        contact_workflow_id(execution.id, execution.generation),
                        ReplySignal(message_id=message.id, text=text, category=category),
                    )
                )
        return signals
