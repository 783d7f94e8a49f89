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
class Update:
    """An incoming private message (kind 'message') or a read receipt (kind 'read')."""

    offset: int
    kind: str
    peer: str
    text: str | None = None
    message_id: int | None = None
    max_id: int | None = None
    date: datetime | None = None


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
}


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
    # True when update offsets survive a restart (the simulator numbers an account's
    # updates for good); False when they count from 1 in each process (Telethon, whose
    # own catch-up replays what was missed), so a stored offset means nothing there.
    durable_offsets: bool

    async def send_message(self, peer: str, text: str, random_id: int) -> SentMessage: ...

    async def get_updates(self, after: int, timeout: float) -> list[Update]: ...

    async def check(self) -> None:
        """Raise Unauthorized if the session no longer works."""

    async def close(self) -> None: ...
