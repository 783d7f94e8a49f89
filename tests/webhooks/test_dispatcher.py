"""The dispatcher pokes a stream whenever it gains work, including a redelivery of the
row that was its newest when it was last poked (that one used to wait a minute)."""

from __future__ import annotations

import uuid
from typing import Any, cast

import pytest
from temporalio.client import Client

from activities.webhooks import WebhookDispatcher
from db.models import WebhookDelivery
from db.repositories import webhooks as repo
from db.settings import Settings
from db.vocabulary import DeliveryStatus
from tests.conftest import TASK_QUEUE, unique
from tests.webhooks.receiver import receiving
from workflows.webhook_types import stream_workflow_id

pytestmark = pytest.mark.usefixtures("worker")


class Recorder:
    """Stands in for the Temporal client: which streams were signalled-with-start."""

    def __init__(self) -> None:
        self.started: list[str] = []

    async def start_workflow(self, *args: Any, **kwargs: Any) -> None:
        self.started.append(kwargs["id"])


async def test_a_redelivery_of_the_newest_row_is_poked_at_once(
    make_user: Any, sessions: Any
) -> None:
    caller = await make_user()
    async with receiving() as receiver:
        # A receiver that never accepts: the session's own worker keeps the row pending
        # whatever it tries, so only this test changes its status.
        url = receiver.url(unique("never"), fail_first=10**6)
        body = {"url": url, "events": ["message_sent"]}
        created = await caller.ok("post", "/webhooks", json=body)
        async with sessions() as session:
            row = WebhookDelivery(
                webhook_id=created["id"],
                campaign_id=None,
                event_id=str(uuid.uuid4()),
                event_type="message_sent",
                payload={},
            )
            session.add(row)
            await session.commit()
            delivery_id = row.id
        stream = stream_workflow_id(created["id"], repo.NO_CAMPAIGN)
        recorder = Recorder()
        dispatcher = WebhookDispatcher(sessions, cast(Client, recorder), TASK_QUEUE, Settings())

        async def poked() -> int:
            recorder.started.clear()
            await dispatcher.poke_new()
            return recorder.started.count(stream)

        assert await poked() == 1
        assert await poked() == 0, "nothing new: the stream is not signalled again"
        # Delivered, then redelivered before the dispatcher looked again: the same row is
        # the newest pending one once more, and the stream must hear of it now.
        async with sessions() as session:
            await repo.finish(session, [delivery_id], DeliveryStatus.DELIVERED)
            await session.commit()
        async with sessions() as session:
            await repo.requeue(session, delivery_id)
            await session.commit()
        assert await poked() == 1
        assert await poked() == 0
        async with sessions() as session:
            await repo.requeue(session, delivery_id)
            await session.commit()
        assert await poked() == 1, "a second redelivery is new work too"
        await caller.ok("delete", f"/webhooks/{created['id']}")
