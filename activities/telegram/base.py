"""The provider interface and the error vocabulary every provider maps into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class SentMessage:
    message_id: int
    date: datetime


@dataclass(frozen=True)
class Cursor:
    """Where an account's updates resume: the simulator's offset, Telethon's update state."""

    offset: int = 0
    state: dict[str, int] | None = None


@dataclass(frozen=True)
class Update:
    """An incoming private message (kind 'message'), a read receipt (kind 'read'), or
    only a new update state to store (kind 'state').

    `state`, when set, is where the account's updates resume once this update is
    handled: the listener stores it in the same transaction as the update's effects.
    """

    offset: int
    kind: str
    peer: str
    text: str | None = None
    message_id: int | None = None
    max_id: int | None = None
    date: datetime | None = None
    user_id: int | None = None
    # The sender's access hash for this account (Telethon): lets it write back to a
    # lead known only by user id.
    access_hash: int | None = None
    state: dict[str, int] | None = None


@dataclass(frozen=True)
class Peer:
    """A lead as the send path knows it; Telethon needs the user id and access hash of a
    lead known only by phone or id (resolved once per account)."""

    username: str | None = None
    phone: str | None = None
    user_id: int | None = None
    access_hash: int | None = None

    @property
    def name(self) -> str:
        """How messages to this lead are recorded: username, else phone, else user id."""
        return self.username or self.phone or str(self.user_id)


@dataclass(frozen=True)
class ResolvedUser:
    user_id: int
    access_hash: int


class TelegramError(Exception):
    """Base of every failure a provider reports."""


class FloodWait(TelegramError):
    def __init__(self, seconds: int) -> None:
        super().__init__(f"FLOOD_WAIT_{seconds}")
        self.seconds = seconds


class PeerFlood(TelegramError):
    """The account is limited for messaging non-contacts."""


# Why a peer cannot be written to, by Telegram's error code; both providers use it.
PEER_ERRORS = {
    "USER_PRIVACY_RESTRICTED": "The user's privacy settings do not allow messages",
    "INPUT_USER_DEACTIVATED": "The user's account is deactivated",
    "USER_IS_BLOCKED": "The user blocked this account",
    "PEER_ID_INVALID": "The peer does not exist",
    "USERNAME_NOT_OCCUPIED": "No user has this username",
    "USERNAME_INVALID": "The username is invalid",
    "PHONE_NOT_ON_TELEGRAM": "No Telegram user has this phone number",
    "ACCESS_HASH_MISSING": "This account does not know the user's access hash yet",
    "PRIVACY_PREMIUM_REQUIRED": "The user accepts messages only from Telegram Premium users",
    "ALLOW_PAYMENT_REQUIRED": "The user charges Telegram Stars for messages",
}


@dataclass(frozen=True)
class ContactRequirement:
    """What Telegram requires before this account may write to a user at all
    (users.getRequirementsToContact): Premium, or Stars per message."""

    code: str  # PRIVACY_PREMIUM_REQUIRED | ALLOW_PAYMENT_REQUIRED
    stars: int | None = None

    @property
    def reason(self) -> str:
        text = PEER_ERRORS[self.code]
        return f"{text} ({self.stars} per message)" if self.stars else text


class PeerUnusable(TelegramError):
    """This peer cannot be written to: privacy, deactivated, blocked or invalid."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Unauthorized(TelegramError):
    """The session is revoked, duplicated, banned or was never authorized."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Transient(TelegramError):
    """Network trouble or a server hiccup; the send is retried with the same random_id."""


class TelegramProvider(Protocol):
    # True when updates carry offsets the listener stores and compares (the simulator
    # numbers an account's updates for good); False when the provider resumes from the
    # stored update state instead (Telethon), and a message is recognised by its id.
    durable_offsets: bool
    # True when a lead known only by phone must be resolved (contacts.importContacts)
    # and one known only by user id needs an access hash before the first send.
    needs_access_hash: bool

    async def send_message(self, peer: Peer, text: str, random_id: int) -> SentMessage: ...

    async def resolve_phone(self, phone: str) -> ResolvedUser:
        """Import the phone as a contact; raise PeerUnusable if no user has it."""

    async def requirement_to_contact(self, peer: Peer) -> ContactRequirement | None:
        """Whether writing to the lead needs Premium or paid messages; None: it does not."""

    async def get_updates(self, cursor: Cursor, timeout: float) -> list[Update]:
        """What arrived after the cursor; waits up to `timeout` seconds when nothing did."""

    async def check(self) -> None:
        """Ask Telegram whether the session works; raise Unauthorized if it does not."""

    async def close(self) -> None: ...
