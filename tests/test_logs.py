"""Structured logs through a real scenario: ids on the lines, no contact data or secrets."""

from __future__ import annotations

import io
import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from db.telemetry import QUIET_LOGGERS, JsonFormatter, TextFormatter, bound, wants_json
from tests.conftest import Caller, campaign_with_contacts, eventually, unique

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every record, at the levels `configure_logging` sets, as the JSON lines it writes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


async def test_lines_carry_ids_and_no_contact_data(
    make_user: Any, sim: httpx.AsyncClient, json_lines: io.StringIO
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peers = [unique("name") for _ in range(3)]
    marker = secrets.token_hex(6)
    flow = {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "hi",
                "type": "send_message",
                "data": {"text": f"Offer {marker} {{first_name}}"},
            },
            {"id": "wait", "type": "wait_for_reply", "data": {"timeout_seconds": 2}},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "hi"},
            {"source": "hi", "target": "wait"},
            {"source": "wait", "target": "end", "label": "replied"},
            {"source": "wait", "target": "end", "label": "no_reply"},
        ],
    }
    cid, account_id, _ = await campaign_with_contacts(caller, peers, flow=flow)
    phone = (await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    # A flood wait (the worker warns), a lost answer (the activity fails and is retried:
    # Temporal logs it) and a privacy error on one lead.
    await sim.post("/faults", json={"type": "flood_wait", "account": phone, "seconds": 1})
    await sim.post("/faults", json={"type": "drop_response", "peer": peers[1], "times": 1})
    await sim.post("/faults", json={"type": "privacy_restricted", "peer": peers[2]})
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def delivered() -> bool:
        return bool((await sim.get(f"/peers/{peers[0]}/messages")).json()["items"])

    await eventually(delivered, timeout=30)
    reply = f"Yes please {marker}"
    await sim.post(f"/peers/{peers[0]}/reply", json={"account": phone, "text": reply})

    async def settled() -> bool:
        rows = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
        return all(r["status"] in ("completed", "responded", "failed") for r in rows)

    await eventually(settled, timeout=30)
    # Search terms ride in query strings; a bad token in a header.
    await caller.get(f"/campaign-flows/{cid}/logs", params={"search": peers[1]})
    bad_token = f"tgf_{secrets.token_hex(8)}"
    refused = await caller.http.get("/me", headers={"Authorization": f"Bearer {bad_token}"})
    assert refused.status_code == 401

    records = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    forbidden = [*peers, phone, marker, reply, caller.token, bad_token]
    for record in records:
        text = json.dumps(record)
        assert not [f for f in forbidden if f in text], record

    flood = [r for r in records if "FLOOD_WAIT" in r["msg"] and r.get("campaign_id") == cid]
    assert flood, "the worker's flood wait warning"
    assert flood[0]["account_id"] == account_id
    assert str(flood[0]["workflow_id"]).startswith("contact-") and flood[0]["execution_id"]
    failed = [r for r in records if r["logger"].startswith("temporalio") and r.get("campaign_id")]
    assert failed and all(r["workflow_id"] and r["account_id"] for r in failed)
    access = [r for r in records if r["logger"] == "api.access" and r.get("campaign_id") == cid]
    routes = {r["route"] for r in access}
    assert "/campaign-flows/{campaign_id}/launch" in routes
    assert "/campaign-flows/{campaign_id}/logs" in routes


def test_text_lines_on_a_terminal_json_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("TGFLOWS_LOG_FORMAT", raising=False)
    assert wants_json(io.StringIO()) and not wants_json(Tty())
    monkeypatch.setenv("TGFLOWS_LOG_FORMAT", "json")
    assert wants_json(Tty())
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent %d", (3,), None)
    with bound(campaign_id=7, workflow_id="contact-9-g1"):
        line = TextFormatter().format(record)
        obj = json.loads(JsonFormatter().format(record))
    assert line.endswith("x: sent 3 [campaign_id=7 workflow_id=contact-9-g1]")
    assert obj["msg"] == "sent 3" and obj["campaign_id"] == 7 and obj["level"] == "info"
