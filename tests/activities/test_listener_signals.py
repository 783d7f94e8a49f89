"""A recorded reply is signalled to its workflow even while Temporal is briefly down."""

from __future__ import annotations

from typing import Any, cast

import pytest
from temporalio.service import RPCError, RPCStatusCode

from activities import listener as listener_module
from activities.listener import ReplyListener
from workflows.types import ReplySignal


class _Handle:
    def __init__(self, temporal: _Temporal, workflow_id: str) -> None:
        self._temporal = temporal
        self._workflow_id = workflow_id

    async def signal(self, name: str, arg: ReplySignal) -> None:
        self._temporal.tries.append(self._workflow_id)
        failures = self._temporal.failures.get(self._workflow_id, [])
        if failures:
            raise RPCError("down", failures.pop(0), b"")
        self._temporal.delivered.append((self._workflow_id, arg.message_id))


class _Temporal:
    def __init__(self, failures: dict[str, list[RPCStatusCode]]) -> None:
        self.failures = failures
        self.tries: list[str] = []
        self.delivered: list[tuple[str, int]] = []

    def get_workflow_handle(self, workflow_id: str) -> _Handle:
        return _Handle(self, workflow_id)


def _listener(temporal: _Temporal) -> ReplyListener:
    return ReplyListener(cast(Any, None), cast(Any, None), cast(Any, temporal), "owner")


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listener_module, "SIGNAL_RETRY_FIRST", 0.001)
    monkeypatch.setattr(listener_module, "SIGNAL_RETRY_FOR", 0.05)


async def test_a_signal_is_retried_until_temporal_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Long enough for a loaded event loop: three retries take milliseconds.
    monkeypatch.setattr(listener_module, "SIGNAL_RETRY_FOR", 60.0)
    temporal = _Temporal({"a": [RPCStatusCode.UNAVAILABLE] * 3})
    await _listener(temporal)._signal("a", ReplySignal(message_id=7, text="yes"))
    assert temporal.tries == ["a"] * 4
    assert temporal.delivered == [("a", 7)]


async def test_an_ended_workflow_is_not_retried() -> None:
    temporal = _Temporal({"a": [RPCStatusCode.NOT_FOUND]})
    await _listener(temporal)._signal("a", ReplySignal(message_id=7, text="yes"))
    assert temporal.tries == ["a"] and temporal.delivered == []


async def test_one_workflow_that_cannot_be_told_does_not_skip_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    temporal = _Temporal({"a": [RPCStatusCode.INTERNAL] * 1000})
    listener = _listener(temporal)
    for workflow_id, row in (("a", 1), ("b", 2)):
        await listener._signal(workflow_id, ReplySignal(message_id=row, text="yes"))
    assert temporal.delivered == [("b", 2)]
    assert "reply to a recorded but not signalled" in caplog.text
