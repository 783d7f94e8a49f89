"""Provider that talks over HTTP to the `tgflows simulator` process."""

from __future__ import annotations

import asyncio
from datetime import datetime

import aiohttp

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


def map_simulator_error(payload: dict[str, object]) -> TelegramError:
    code = str(payload.get("error", "UNKNOWN"))
    if code == "FLOOD_WAIT":
        return FloodWait(int(payload.get("seconds", 1)))  # type: ignore[call-overload]
    if code == "PEER_FLOOD":
        return PeerFlood("PEER_FLOOD")
    if code in PEER_ERRORS:
        return PeerUnusable(code, PEER_ERRORS[code])
    if code in ("AUTH_KEY_UNREGISTERED", "SESSION_REVOKED", "USER_DEACTIVATED_BAN"):
        return Unauthorized(code)
    return Transient(code)


_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


class SimulatorProvider:
    """aiohttp rather than httpx: a send is on every lead's path, and aiohttp's cost per
    request is the lower (docs/decisions.md)."""

    durable_offsets = True
    # Like Telegram, the simulator knows leads by phone only once they are imported;
    # it accepts a bare user id without an access hash.
    needs_access_hash = False

    def __init__(
        self,
        base_url: str,
        phone: str,
        client: aiohttp.ClientSession,
        polls: aiohttp.ClientSession | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._phone = phone
        self._http = client
        # Long polls go on their own session so that they never hold a request's connection.
        self._polls = polls or client

    async def send_message(self, peer: Peer, text: str, random_id: int) -> SentMessage:
        try:
            async with self._http.post(
                f"{self._base}/accounts/{self._phone}/send",
                json={"peer": peer.name, "text": text, "random_id": random_id},
                timeout=aiohttp.ClientTimeout(total=15),
            ) as resp:
                if resp.status >= 500:
                    raise Transient(f"simulator answered {resp.status}")
                status, body = resp.status, await resp.json(content_type=None)
        except _ERRORS as err:
            raise Transient(f"simulator unreachable: {type(err).__name__}") from err
        if status != 200:
            raise map_simulator_error(body)
        return SentMessage(int(body["id"]), datetime.fromisoformat(body["date"]))

    async def resolve_phone(self, phone: str) -> ResolvedUser:
        try:
            async with self._http.post(
                f"{self._base}/accounts/{self._phone}/import-contacts",
                json={"phone": phone},
                timeout=aiohttp.ClientTimeout(total=15),
            ) as resp:
                if resp.status >= 500:
                    raise Transient(f"simulator answered {resp.status}")
                status, body = resp.status, await resp.json(content_type=None)
        except _ERRORS as err:
            raise Transient(f"simulator unreachable: {type(err).__name__}") from err
        if status != 200:
            raise map_simulator_error(body)
        return ResolvedUser(int(body["user_id"]), int(body["access_hash"]))

    async def requirement_to_contact(self, peer: Peer) -> ContactRequirement | None:
        try:
            async with self._http.post(
                f"{self._base}/accounts/{self._phone}/requirements",
                json={"peers": [peer.name]},
                timeout=aiohttp.ClientTimeout(total=15),
            ) as resp:
                if resp.status >= 500:
                    raise Transient(f"simulator answered {resp.status}")
                status, body = resp.status, await resp.json(content_type=None)
        except _ERRORS as err:
            raise Transient(f"simulator unreachable: {type(err).__name__}") from err
        if status != 200:
            raise map_simulator_error(body)
        found = body["items"][0]
        if found["requirement"] is None:
            return None
        return ContactRequirement(str(found["requirement"]), found.get("stars"))

    async def get_updates(self, cursor: Cursor, timeout: float) -> list[Update]:
        try:
            async with self._polls.get(
                f"{self._base}/accounts/{self._phone}/updates",
                params={"after": str(cursor.offset), "timeout": str(timeout)},
                timeout=aiohttp.ClientTimeout(total=timeout + 10),
            ) as resp:
                resp.raise_for_status()
                body = await resp.json(content_type=None)
        except _ERRORS as err:
            raise Transient(f"simulator updates failed: {type(err).__name__}") from err
        return [
            Update(
                offset=int(u["offset"]),
                kind=str(u["kind"]),
                peer=str(u["peer"]),
                text=u.get("text"),
                message_id=u.get("id"),
                max_id=u.get("max_id"),
                date=datetime.fromisoformat(u["date"]) if u.get("date") else None,
            )
            for u in body["updates"]
        ]

    async def check(self) -> None:
        try:
            async with self._http.get(
                f"{self._base}/accounts/{self._phone}/health",
                timeout=aiohttp.ClientTimeout(total=5),
            ) as resp:
                if resp.status == 401:
                    body = await resp.json(content_type=None)
                    raise Unauthorized(str(body.get("error", "AUTH_KEY_UNREGISTERED")))
        except _ERRORS as err:
            raise Transient(f"simulator unreachable: {type(err).__name__}") from err

    async def close(self) -> None:
        return None
