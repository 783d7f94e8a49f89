"""Leads who answer during the chaos: each replies at a random moment after its first
message arrives, whether or not a worker runs then. Every reply must be recorded, and
no follow-up may reach a lead once its reply is recorded."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select

from db.models import Message
from db.session import SessionFactory

REPLY = "sounds interesting, tell me more"
# A send that checked for replies just before one was recorded may still be delivered
# a moment after it (the reply crossed the message): not a follow-up after a reply.
CROSSING = timedelta(seconds=2)


class Repliers:
    def __init__(
        self, sim: httpx.AsyncClient, phone: str, peers: list[str], rng: random.Random
    ) -> None:
        self._sim = sim
        self._phone = phone
        self._rng = rng
        self.peers = peers
        self.replied: set[str] = set()

    async def run(self) -> None:
        """Until every replier has answered its first message (cancelled at the end)."""
        waiting = list(self.peers)
        while waiting:
            for peer in list(waiting):
                items = (await self._sim.get(f"/peers/{peer}/messages")).json()["items"]
                if items:
                    waiting.remove(peer)
                    asyncio.get_running_loop().call_later(
                        self._rng.uniform(0, 2.5),
                        lambda peer=peer: asyncio.ensure_future(self._reply(peer)),
                    )
            await asyncio.sleep(0.1)

    async def _reply(self, peer: str) -> None:
        await self._sim.post(f"/peers/{peer}/reply", json={"account": self._phone, "text": REPLY})
        self.replied.add(peer)

    async def all_recorded(self, sessions: SessionFactory, campaign_id: int) -> bool:
        if len(self.replied) < len(self.peers):
            return False
        return (await self.check(sessions, campaign_id))[0] >= len(self.peers)

    async def check(self, sessions: SessionFactory, campaign_id: int) -> tuple[int, list[str]]:
        """(replies recorded, follow-ups delivered after their lead's reply was recorded)."""
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(Message.peer, Message.created_at).where(
                        Message.campaign_id == campaign_id, Message.direction == "in"
                    )
                )
            ).all()
        recorded = {peer: at for peer, at in rows}
        late: list[str] = []
        for peer, at in recorded.items():
            items = (await self._sim.get(f"/peers/{peer}/messages")).json()["items"]
            for message in items[1:]:
                if datetime.fromisoformat(message["date"]) > at + CROSSING:
                    late.append(f"{peer}: {message['text']!r} at {message['date']}, reply {at}")
        return len(rows), late
