"""The A/B winner local activity: read the node's decision, or decide it now when the
numbers allow, recording it once for the whole campaign."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import asdict

from temporalio import activity

from db.repositories import abtest as repo
from db.session import SessionFactory
from workflows import abtest
from workflows.abtest import WinnerRequest, WinnerResult

DECIDED_CACHE_SIZE = 4096
# After an evaluation that found no winner, the next one of that node waits this many times
# its duration: at most a tenth of a database connection per node and worker in a burst,
# and a winner is seen at most that late (milliseconds for small campaigns).
IDLE_FACTOR = 9

_Key = tuple[int, str, str, tuple[str, ...], str, int, float]


class AbTestActivities:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        # A decision never changes once recorded: each is read from the database once.
        self._decided: OrderedDict[tuple[int, str], str] = OrderedDict()
        # Leads arriving while an evaluation of their node runs share it: a burst of
        # leads costs one aggregate query at a time per node, not one per lead.
        self._running: dict[_Key, asyncio.Future[str | None]] = {}
        # Per node: when its last evaluation without a winner ended, and how long it took.
        self._undecided: dict[_Key, tuple[float, float]] = {}

    @activity.defn(name="ab_winner")
    async def ab_winner(self, req: WinnerRequest) -> WinnerResult:
        """The node's winner: the recorded decision, or one decided now, or None yet."""
        known = self._decided.get((req.campaign_id, req.node_id))
        if known is None:
            known = await self._shared(req)
        # A winner that the flow no longer has (edited since) is no winner.
        return WinnerResult(known if known in req.arms else None)

    async def _shared(self, req: WinnerRequest) -> str | None:
        key: _Key = (
            req.campaign_id,
            req.node_id,
            req.node_type,
            tuple(req.arms),
            req.metric,
            req.min_sample,
            req.confidence,
        )
        running = self._running.get(key)
        last = self._undecided.get(key)
        if running is None and last is not None:
            ended, took = last
            if time.monotonic() - ended < took * IDLE_FACTOR:
                return None
        if running is None:
            running = asyncio.ensure_future(self._timed(key, req))
            self._running[key] = running
            running.add_done_callback(lambda _: self._running.pop(key, None))
        winner = await asyncio.shield(running)
        if winner is not None:
            self._decided[(req.campaign_id, req.node_id)] = winner
            if len(self._decided) > DECIDED_CACHE_SIZE:
                self._decided.popitem(last=False)
        return winner

    async def _timed(self, key: _Key, req: WinnerRequest) -> str | None:
        began = time.monotonic()
        winner = await self._evaluate(req)
        if winner is None:
            ended = time.monotonic()
            self._undecided.pop(key, None)
            self._undecided[key] = (ended, ended - began)
            if len(self._undecided) > DECIDED_CACHE_SIZE:
                self._undecided.pop(next(iter(self._undecided)))
        else:
            self._undecided.pop(key, None)
        return winner

    async def _evaluate(self, req: WinnerRequest) -> str | None:
        async with self._sessions.begin() as session:
            stored = await repo.decision(session, req.campaign_id, req.node_id)
            if stored is not None:
                return stored.winner
            counts = await repo.arm_counts(session, req.campaign_id, req.node_id, req.node_type)
            config = abtest.AutoWinner(req.metric, req.min_sample, req.confidence)
            arms = abtest.arms_of(req.arms, counts, req.metric)
            found = abtest.decide(arms, config)
            if found is None:
                return None
            values = {
                "campaign_id": req.campaign_id,
                "node_id": req.node_id,
                "node_type": req.node_type,
                **asdict(config),
                **asdict(found),
                "arms": [abtest.arm_json(a) for a in arms],
                "execution_id": req.execution_id,
            }
            return await repo.record_decision(
                session,
                values=values,
                generation=req.generation,
                summary=abtest.summary(found, arms, config),
            )
