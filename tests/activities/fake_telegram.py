"""A fake TelegramClient at the true boundary: the MTProto calls the provider makes,
answered by a small in-memory Telegram (one account's update box, users, phones)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from telethon import errors
from telethon.tl import functions, types

_ids = itertools.count(1000)


@dataclass
class FakeTelegram:
    """What the account's Telegram holds; every FakeClient talks to one of these."""

    revoked: bool = False
    slice_size: int = 100  # a difference longer than this comes in slices
    pts: int = 0
    events: list[tuple[int, Any]] = field(default_factory=list)  # (pts, message or update)
    users: dict[int, types.User] = field(default_factory=dict)
    phones: dict[str, int] = field(default_factory=dict)
    requests: list[Any] = field(default_factory=list)
    sent: list[Any] = field(default_factory=list)
    # users.getRequirementsToContact answers by user id (RequirementToContactEmpty else).
    requirements: dict[int, Any] = field(default_factory=dict)
    connects: int = 0
    live: int = 0  # clients connected and not yet disconnected

    def user(self, username: str | None = None, phone: str | None = None) -> types.User:
        user_id = next(_ids)
        user = types.User(id=user_id, access_hash=user_id * 7919, username=username, phone=phone)
        self.users[user_id] = user
        if phone:
            self.phones[phone] = user_id
        return user

    def incoming(self, user: types.User, text: str) -> int:
        """The user writes to the account: a new message at the next pts."""
        self.pts += 1
        message_id = self.pts
        self.events.append(
            (
                self.pts,
                types.Message(
                    id=message_id,
                    peer_id=types.PeerUser(user.id),
                    date=datetime.now(UTC),
                    message=text,
                    out=False,
                ),
            )
        )
        return message_id

    def outgoing(self, user: types.User, text: str) -> None:
        self.pts += 1
        self.events.append(
            (
                self.pts,
                types.Message(id=self.pts, peer_id=types.PeerUser(user.id), message=text, out=True),
            )
        )

    def state(self, pts: int | None = None) -> types.updates.State:
        return types.updates.State(
            pts=self.pts if pts is None else pts,
            qts=0,
            date=datetime.now(UTC),
            seq=0,
            unread_count=0,
        )

    def difference(self, pts: int) -> Any:
        pending = [(p, e) for p, e in self.events if p > pts]
        if not pending:
            return types.updates.DifferenceEmpty(date=datetime.now(UTC), seq=0)
        chunk = pending[: self.slice_size]
        messages = [e for _, e in chunk if isinstance(e, types.Message)]
        others = [e for _, e in chunk if not isinstance(e, types.Message)]
        users = list(self.users.values())
        if len(pending) > self.slice_size:
            return types.updates.DifferenceSlice(
                messages, [], others, [], users, self.state(chunk[-1][0])
            )
        return types.updates.Difference(messages, [], others, [], users, self.state())

    def answer(self, request: Any) -> Any:
        self.requests.append(request)
        if self.revoked:
            raise errors.AuthKeyUnregisteredError(request)
        if isinstance(request, functions.users.GetUsersRequest):
            return [types.User(id=1, is_self=True, access_hash=1)]
        if isinstance(request, functions.updates.GetStateRequest):
            return self.state()
        if isinstance(request, functions.updates.GetDifferenceRequest):
            return self.difference(request.pts)
        if isinstance(request, functions.contacts.ImportContactsRequest):
            found = [
                self.users[self.phones[c.phone]] for c in request.contacts if c.phone in self.phones
            ]
            return types.contacts.ImportedContacts([], [], [], found)
        if isinstance(request, functions.users.GetRequirementsToContactRequest):
            return [
                self.requirements.get(u.user_id, types.RequirementToContactEmpty())
                for u in request.id
            ]
        if isinstance(request, functions.messages.SendMessageRequest):
            self.sent.append(request)
            self.pts += 1
            return types.UpdateShortSentMessage(
                id=self.pts, pts=self.pts, pts_count=1, date=datetime.now(UTC)
            )
        raise AssertionError(f"unexpected request {type(request).__name__}")

    def client(self, session: str, api_id: int, api_hash: str) -> FakeClient:
        return FakeClient(self)


class FakeClient:
    """The surface of telethon.TelegramClient the provider uses."""

    def __init__(self, server: FakeTelegram) -> None:
        self._server = server
        self._connected = False
        self.handlers: list[Any] = []

    async def connect(self) -> None:
        self._server.connects += 1
        self._server.live += 1
        self._connected = True

    async def disconnect(self) -> None:
        if self._connected:
            self._connected = False
            self._server.live -= 1

    def add_event_handler(self, callback: Any, event: Any) -> None:
        self.handlers.append(callback)

    async def get_input_entity(self, username: str) -> Any:
        for user in self._server.users.values():
            if user.username == username:
                return types.InputPeerUser(user.id, user.access_hash)
        raise ValueError(f"No user has {username} as username")

    async def __call__(self, request: Any) -> Any:
        assert self._connected, "request on a disconnected client"
        return self._server.answer(request)
