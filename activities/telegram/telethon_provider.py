"""Provider for real Telegram user accounts through Telethon."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from telethon import TelegramClient, errors, events
from telethon.sessions import StringSession
from telethon.tl import functions, types

from activities.telegram.base import (
    PEER_ERRORS,
    FloodWait,
    PeerFlood,
    PeerUnusable,
    SentMessage,
    TelegramError,
    Transient,
    Unauthorized,
    Update,
)

_PEER_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (errors.UserPrivacyRestrictedError, "USER_PRIVACY_RESTRICTED"),
    (errors.InputUserDeactivatedError, "INPUT_USER_DEACTIVATED"),
    (errors.UserIsBlockedError, "USER_IS_BLOCKED"),
    (errors.PeerIdInvalidError, "PEER_ID_INVALID"),
    (errors.UsernameNotOccupiedError, "USERNAME_NOT_OCCUPIED"),
    (errors.UsernameInvalidError, "USERNAME_INVALID"),
)
_AUTH_ERRORS: tuple[type[Exception], ...] = (
    errors.AuthKeyUnregisteredError,
    errors.AuthKeyDuplicatedError,
    errors.SessionRevokedError,
    errors.UserDeactivatedBanError,
    errors.UserDeactivatedError,
)


def map_telethon_error(err: BaseException) -> TelegramError:
    """Translate Telethon's exceptions into the provider vocabulary, in one place."""
    if isinstance(err, errors.FloodWaitError):
        return FloodWait(int(err.seconds))
    if isinstance(err, errors.PeerFloodError):
        return PeerFlood("PEER_FLOOD")
    for cls, code in _PEER_ERRORS:
        if isinstance(err, cls):
            return PeerUnusable(code, PEER_ERRORS[code])
    if isinstance(err, _AUTH_ERRORS):
        return Unauthorized(type(err).__name__.removesuffix("Error"))
    if isinstance(err, ValueError):
        # Telethon raises ValueError when it cannot resolve a username to an entity.
        return PeerUnusable("PEER_ID_INVALID", str(err))
    return Transient(type(err).__name__)


def build_send_request(
    peer: Any, text: str, random_id: int
) -> functions.messages.SendMessageRequest:
    return functions.messages.SendMessageRequest(
        peer=peer, message=text, random_id=random_id, no_webpage=True
    )


def sent_from_result(result: Any, random_id: int) -> SentMessage:
    """The message id Telegram assigned, from either shape SendMessageRequest returns."""
    if isinstance(result, types.UpdateShortSentMessage):
        return SentMessage(int(result.id), result.date)
    for update in getattr(result, "updates", []):
        if isinstance(update, types.UpdateMessageID) and update.random_id == random_id:
            return SentMessage(int(update.id), datetime.now(UTC))
    raise Transient("Telegram returned no message id")


class TelethonProvider:
    durable_offsets = False

    def __init__(self, *, session: str, api_id: int, api_hash: str) -> None:
        self._client = TelegramClient(StringSession(session), api_id, api_hash, catch_up=True)
        self._updates: list[Update] = []
        self._changed = asyncio.Event()

    async def connect(self) -> None:
        try:
            await self._client.connect()
            if not await self._client.is_user_authorized():
                raise Unauthorized("AUTH_KEY_UNREGISTERED")
        except TelegramError:
            raise
        except Exception as err:
            raise map_telethon_error(err) from err
        self._client.add_event_handler(self._on_message, events.NewMessage(incoming=True))
        self._client.add_event_handler(self._on_read, events.MessageRead(inbox=False))

    async def send_message(self, peer: str, text: str, random_id: int) -> SentMessage:
        try:
            entity = await self._client.get_input_entity(peer)
            result = await self._client(build_send_request(entity, text, random_id))
        except Exception as err:
            raise map_telethon_error(err) from err
        return sent_from_result(result, random_id)

    async def _on_message(self, event: Any) -> None:
        if not event.is_private:
            return
        sender = await event.get_sender()
        peer = (getattr(sender, "username", None) or str(event.sender_id)).lower()
        self._push(
            Update(
                len(self._updates) + 1, "message", peer, event.raw_text, event.id, date=event.date
            )
        )

    async def _on_read(self, event: Any) -> None:
        entity = await event.get_input_chat()
        full = await self._client.get_entity(entity)
        peer = (getattr(full, "username", None) or str(event.chat_id)).lower()
        self._push(Update(len(self._updates) + 1, "read", peer, max_id=event.max_id))

    def _push(self, update: Update) -> None:
        self._updates.append(update)
        self._changed.set()
        self._changed = asyncio.Event()

    async def get_updates(self, after: int, timeout: float) -> list[Update]:
        if len(self._updates) <= after:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        return self._updates[after:]

    async def check(self) -> None:
        try:
            authorized = await self._client.is_user_authorized()
        except Exception as err:
            raise map_telethon_error(err) from err
        if not authorized:
            raise Unauthorized("AUTH_KEY_UNREGISTERED")

    async def close(self) -> None:
        await self._client.disconnect()
