"""Provider for real Telegram user accounts through Telethon."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from telethon import TelegramClient, errors, events
from telethon.sessions import StringSession
from telethon.tl import functions, types

from activities.telegram.base import (
    PEER_ERRORS,
    ContactRequirement,
    Cursor,
    FloodWait,
    Peer,
    PeerFlood,
    PeerUnusable,
    ResolvedUser,
    SentMessage,
    TelegramError,
    Transient,
    Unauthorized,
    Update,
)

log = logging.getLogger(__name__)
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
    if isinstance(err, errors.RPCError) and err.message in PEER_ERRORS:
        # Newer than this Telethon's error list (PRIVACY_PREMIUM_REQUIRED, ...).
        return PeerUnusable(err.message, PEER_ERRORS[err.message])
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


def telethon_client(session: str, api_id: int, api_hash: str) -> Any:
    # No catch-up of Telethon's own: the provider fetches the difference itself from the
    # update state stored in PostgreSQL; Telethon's live updates only ring the doorbell.
    return TelegramClient(StringSession(session), api_id, api_hash, catch_up=False)


ClientFactory = Callable[[str, int, str], Any]


def state_of(state: Any) -> dict[str, int]:
    """An updates.State (or a difference's state) as the JSON stored on the account."""
    return {
        "pts": int(state.pts),
        "qts": int(state.qts),
        "date": int(state.date.timestamp()),
        "seq": int(state.seq),
    }


def requirement_to_contact_of(found: Any) -> ContactRequirement | None:
    """A RequirementToContact answer in the provider vocabulary."""
    if isinstance(found, types.RequirementToContactPremium):
        return ContactRequirement("PRIVACY_PREMIUM_REQUIRED")
    if isinstance(found, types.RequirementToContactPaidMessages):
        return ContactRequirement("ALLOW_PAYMENT_REQUIRED", int(found.stars_amount))
    return None  # RequirementToContactEmpty


class TelethonProvider:
    durable_offsets = False
    needs_access_hash = True

    def __init__(
        self,
        *,
        session: str,
        api_id: int,
        api_hash: str,
        factory: ClientFactory = telethon_client,
    ) -> None:
        self._client = factory(session, api_id, api_hash)
        self._doorbell = asyncio.Event()

    async def connect(self) -> None:
        """Connect and prove the session with a real request; never leaves a client open."""
        try:
            await self._client.connect()
            await self.check()
        except BaseException as err:
            await self._client.disconnect()
            if isinstance(err, Exception) and not isinstance(err, TelegramError):
                raise map_telethon_error(err) from err
            raise
        self._client.add_event_handler(self._ring, events.Raw())

    async def _ring(self, _update: Any) -> None:
        self._doorbell.set()

    async def _entity(self, peer: Peer) -> Any:
        if peer.user_id is not None and peer.access_hash is not None:
            return types.InputPeerUser(peer.user_id, peer.access_hash)
        if peer.username:
            return await self._client.get_input_entity(peer.username)
        raise PeerUnusable("ACCESS_HASH_MISSING", PEER_ERRORS["ACCESS_HASH_MISSING"])

    async def requirement_to_contact(self, peer: Peer) -> ContactRequirement | None:
        """users.getRequirementsToContact for one user: Premium, paid messages or none."""
        try:
            entity = await self._entity(peer)
            if not isinstance(entity, types.InputPeerUser):
                return None  # a channel or chat: not a user with contact requirements
            found = await self._client(
                functions.users.GetRequirementsToContactRequest(
                    id=[types.InputUser(entity.user_id, entity.access_hash)]
                )
            )
        except TelegramError:
            raise
        except Exception as err:
            raise map_telethon_error(err) from err
        return requirement_to_contact_of(found[0] if found else None)

    async def send_message(self, peer: Peer, text: str, random_id: int) -> SentMessage:
        try:
            entity = await self._entity(peer)
            result = await self._client(build_send_request(entity, text, random_id))
        except TelegramError:
            raise
        except Exception as err:
            raise map_telethon_error(err) from err
        return sent_from_result(result, random_id)

    async def resolve_phone(self, phone: str) -> ResolvedUser:
        request = functions.contacts.ImportContactsRequest(
            [types.InputPhoneContact(client_id=0, phone=phone, first_name=phone, last_name="")]
        )
        try:
            result = await self._client(request)
        except Exception as err:
            raise map_telethon_error(err) from err
        for user in result.users:
            if getattr(user, "access_hash", None) is not None:
                return ResolvedUser(int(user.id), int(user.access_hash))
        raise PeerUnusable("PHONE_NOT_ON_TELEGRAM", PEER_ERRORS["PHONE_NOT_ON_TELEGRAM"])

    async def get_updates(self, cursor: Cursor, timeout: float) -> list[Update]:
        try:
            if cursor.state is None:
                # A new account starts from now: there is nothing it could have missed.
                state = await self._client(functions.updates.GetStateRequest())
                return [Update(0, "state", "", state=state_of(state))]
            # Cleared before asking: an update that arrives meanwhile rings again.
            self._doorbell.clear()
            updates = await self._difference(cursor.state)
            if updates or timeout <= 0:
                return updates
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._doorbell.wait(), timeout)
            return await self._difference(cursor.state)
        except TelegramError:
            raise
        except Exception as err:
            raise map_telethon_error(err) from err

    async def _difference(self, state: dict[str, int]) -> list[Update]:
        """updates.getDifference from the stored state, slice by slice, as Updates."""
        found: list[Update] = []
        while True:
            diff = await self._client(
                functions.updates.GetDifferenceRequest(
                    pts=state["pts"],
                    date=datetime.fromtimestamp(state["date"], UTC),
                    qts=state["qts"],
                )
            )
            if isinstance(diff, types.updates.DifferenceEmpty):
                return found
            if isinstance(diff, types.updates.DifferenceTooLong):
                # Telegram keeps no difference this long; the replies in the gap are
                # caught by the check before each send only if recorded elsewhere.
                log.warning("update gap too long (pts %s -> %s)", state["pts"], diff.pts)
                state = {**state, "pts": int(diff.pts)}
                found.append(Update(0, "state", "", state=state))
                continue
            final = isinstance(diff, types.updates.Difference)
            state = state_of(diff.state if final else diff.intermediate_state)
            batch = updates_of(diff)
            if batch:
                batch[-1] = replace(batch[-1], state=state)
            else:
                batch = [Update(0, "state", "", state=state)]
            found += batch
            if final:
                return found

    async def check(self) -> None:
        """users.getUsers([self]): answered by Telegram, not from Telethon's cache."""
        try:
            users = await self._client(functions.users.GetUsersRequest([types.InputUserSelf()]))
        except Exception as err:
            raise map_telethon_error(err) from err
        if not users:
            raise Unauthorized("AUTH_KEY_UNREGISTERED")

    async def close(self) -> None:
        await self._client.disconnect()


def updates_of(diff: Any) -> list[Update]:
    """Private incoming messages and outbox read receipts of one difference."""
    users = {u.id: u for u in diff.users}

    def peer_name(user_id: int) -> str:
        user = users.get(user_id)
        return str(getattr(user, "username", None) or user_id).lower()

    found: list[Update] = []
    for message in diff.new_messages:
        if (
            isinstance(message, types.Message)
            and not message.out
            and isinstance(message.peer_id, types.PeerUser)
        ):
            user_id = int(message.peer_id.user_id)
            access_hash = getattr(users.get(user_id), "access_hash", None)
            found.append(
                Update(
                    0,
                    "message",
                    peer_name(user_id),
                    message.message,
                    int(message.id),
                    date=message.date,
                    user_id=user_id,
                    access_hash=int(access_hash) if access_hash is not None else None,
                )
            )
    for update in diff.other_updates:
        if isinstance(update, types.UpdateReadHistoryOutbox) and isinstance(
            update.peer, types.PeerUser
        ):
            user_id = int(update.peer.user_id)
            found.append(
                Update(0, "read", peer_name(user_id), max_id=int(update.max_id), user_id=user_id)
            )
    return found
