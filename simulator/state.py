"""The simulator's world: accounts, peers, deduplication and faults.

Messages and updates are also appended to a journal (when given one) and read back at
start, so a restarted simulator keeps its update offsets and its deduplication, as
Telegram does; faults are not kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

FAULT_TYPES = frozenset(
    {
        "flood_wait",
        "peer_flood",
        "privacy_restricted",
        "deactivated",
        "drop_response",
        "unauthorized",
        "unknown_phone",
    }
)


class SendRefused(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.payload = {"error": error, **extra}


class DropResponse(Exception):
    """The message was delivered; the answer must be lost on the way back."""


# Users who accept messages only from Premium senders, or for Telegram Stars: the fault
# that marks them, and Telegram's error for a send to them.
CONTACT_REQUIREMENTS = {
    "premium_required": "PRIVACY_PREMIUM_REQUIRED",
    "paid_messages": "ALLOW_PAYMENT_REQUIRED",
}


@dataclass
class Fault:
    id: int
    type: str
    account: str | None = None
    peer: str | None = None
    seconds: int = 0
    after: int = 0
    times: int | None = None
    stars: int = 0  # paid_messages: what the user charges per message
    sends_seen: int = 0
    active_until: float | None = None

    def matches(self, account: str, peer: str) -> bool:
        return (self.account in (None, account)) and (self.peer in (None, peer.lower()))

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "account": self.account,
            "peer": self.peer,
            "seconds": self.seconds,
            "after": self.after,
            "times": self.times,
            "stars": self.stars,
        }


@dataclass
class Account:
    phone: str
    next_id: int = 1
    sent: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _stable_id(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256(":".join(parts).encode()).digest()[:6], "big")


class World:
    def __init__(self, journal: Path | None = None) -> None:
        self.accounts: dict[str, Account] = {}
        self.inbox: dict[str, list[dict[str, Any]]] = {}
        self.faults: list[Fault] = []
        self._fault_ids = 0
        self._journal: IO[str] | None = None
        if journal is not None:
            if journal.exists():
                self._replay(journal)
            journal.parent.mkdir(parents=True, exist_ok=True)
            self._journal = journal.open("a", encoding="utf-8")

    def _replay(self, journal: Path) -> None:
        with journal.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:  # the last line of a killed simulator
                    continue
                acct = self.account(entry["phone"])
                if entry["t"] == "sent":
                    message = entry["message"]
                    acct.sent[(message["peer"], message["random_id"])] = message
                    self.inbox.setdefault(message["peer"], []).append(message)
                    acct.next_id = max(acct.next_id, int(message["id"]) + 1)
                else:
                    acct.updates.append(entry["update"])
                    if entry["update"].get("id") is not None:
                        acct.next_id = max(acct.next_id, int(entry["update"]["id"]) + 1)

    def _record(self, kind: str, phone: str, payload: dict[str, Any]) -> None:
        if self._journal is not None:
            key = "message" if kind == "sent" else "update"
            self._journal.write(json.dumps({"t": kind, "phone": phone, key: payload}) + "\n")
            self._journal.flush()

    def import_contact(self, phone: str, contact_phone: str) -> dict[str, int]:
        """contacts.importContacts of one phone: its user, unless no user has it."""
        if any(f.type == "unknown_phone" and f.matches(phone, contact_phone) for f in self.faults):
            raise SendRefused("PHONE_NOT_ON_TELEGRAM")
        return {
            "user_id": _stable_id("user", contact_phone),
            "access_hash": _stable_id("hash", phone, contact_phone),
        }

    def account(self, phone: str) -> Account:
        if phone not in self.accounts:
            self.accounts[phone] = Account(phone)
        return self.accounts[phone]

    def arm(self, spec: dict[str, Any]) -> Fault:
        self._fault_ids += 1
        peer = spec.get("peer")
        fault = Fault(
            id=self._fault_ids,
            type=spec["type"],
            account=spec.get("account"),
            peer=peer.lower().lstrip("@") if peer else None,
            seconds=int(spec.get("seconds") or 0),
            after=int(spec.get("after") or 0),
            times=spec.get("times"),
            stars=int(spec.get("stars") or 0),
        )
        self.faults.append(fault)
        return fault

    def send(self, phone: str, peer: str, text: str, random_id: int) -> dict[str, Any]:
        peer = peer.lower().lstrip("@")
        acct = self.account(phone)
        earlier = acct.sent.get((peer, random_id))
        if earlier is not None:
            return earlier  # Telegram deduplicates by random_id
        drop = self._check_faults(phone, peer)
        message = {
            "id": acct.next_id,
            "text": text,
            "account": phone,
            "random_id": random_id,
            "date": now_iso(),
            "peer": peer,
        }
        acct.next_id += 1
        acct.sent[(peer, random_id)] = message
        self.inbox.setdefault(peer, []).append(message)
        self._record("sent", phone, message)
        if drop:
            raise DropResponse()
        return message

    def _check_faults(self, phone: str, peer: str) -> bool:
        drop = False
        for fault in list(self.faults):
            if not fault.matches(phone, peer):
                continue
            if fault.type == "flood_wait":
                now = time.monotonic()
                if fault.active_until is not None:
                    if now < fault.active_until:
                        raise SendRefused(
                            "FLOOD_WAIT", seconds=max(1, round(fault.active_until - now))
                        )
                    fault.active_until = None
                    self._consume(fault)
                    if fault not in self.faults:
                        continue
                fault.sends_seen += 1
                if fault.sends_seen > fault.after:
                    fault.active_until = now + fault.seconds
                    fault.sends_seen = 0
                    raise SendRefused("FLOOD_WAIT", seconds=fault.seconds)
            elif fault.type == "peer_flood":
                self._consume(fault)
                raise SendRefused("PEER_FLOOD")
            elif fault.type == "unauthorized":
                if fault.times is not None:  # without `times` the session stays revoked
                    self._consume(fault)
                raise SendRefused("AUTH_KEY_UNREGISTERED")
            elif fault.type == "privacy_restricted":
                raise SendRefused("USER_PRIVACY_RESTRICTED")
            elif fault.type == "deactivated":
                raise SendRefused("INPUT_USER_DEACTIVATED")
            elif fault.type in CONTACT_REQUIREMENTS:
                raise SendRefused(CONTACT_REQUIREMENTS[fault.type])
            elif fault.type == "drop_response":
                self._consume(fault)
                drop = True
        return drop

    def requirements(self, phone: str, peers: list[str]) -> list[dict[str, Any]]:
        """users.getRequirementsToContact: Premium or paid messages, per user, in order."""
        items = []
        for peer in peers:
            name = peer.lower().lstrip("@")
            fault = next(
                (
                    f
                    for f in self.faults
                    if f.type in CONTACT_REQUIREMENTS and f.matches(phone, name)
                ),
                None,
            )
            items.append(
                {
                    "peer": name,
                    "requirement": CONTACT_REQUIREMENTS[fault.type] if fault else None,
                    "stars": fault.stars if fault and fault.stars else None,
                }
            )
        return items

    def revoked(self, phone: str) -> bool:
        """A lasting `unauthorized` fault (no `times`) revokes the session, so the health
        check sees it too; a counted one refuses only the next sends."""
        return any(
            f.type == "unauthorized" and f.times is None and f.account in (None, phone)
            for f in self.faults
        )

    def _consume(self, fault: Fault) -> None:
        if fault.times is None:
            fault.times = 1
        fault.times -= 1
        if fault.times <= 0:
            self.faults.remove(fault)

    def push_update(self, phone: str, update: dict[str, Any]) -> dict[str, Any]:
        acct = self.account(phone)
        update = {"offset": len(acct.updates) + 1, "date": now_iso(), **update}
        acct.updates.append(update)
        self._record("update", phone, update)
        acct.changed.set()
        acct.changed = asyncio.Event()
        return update

    async def updates(self, phone: str, after: int, timeout: float) -> list[dict[str, Any]]:
        acct = self.account(phone)
        if len(acct.updates) <= after and timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(acct.changed.wait(), timeout)
        return acct.updates[after:]
