"""Automatic A/B winners through the real stack: replies decide, new leads take the winner."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Caller, campaign_with_contacts, eventually, unique
from tests.workflows.test_lifecycle import received

pytestmark = pytest.mark.usefixtures("worker")

MIN_SAMPLE = 3


def auto(metric: str) -> dict[str, Any]:
    return {"metric": metric, "min_sample": MIN_SAMPLE, "confidence": 0.95}


TEXTS = {"A": "Offer A", "B": "Offer B"}


def variants_flow(metric: str = "reply_rate") -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "hello",
                "type": "send_message",
                "data": {
                    "variants": [{"name": n, "text": t} for n, t in TEXTS.items()],
                    "auto_winner": auto(metric),
                },
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [{"source": "start", "target": "hello"}, {"source": "hello", "target": "end"}],
    }


def split_flow(metric: str = "reply_rate") -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "ab", "type": "ab_split", "data": {"auto_winner": auto(metric)}},
            {"id": "A", "type": "send_message", "data": {"text": TEXTS["A"]}},
            {"id": "B", "type": "send_message", "data": {"text": TEXTS["B"]}},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "ab"},
            {"source": "ab", "target": "A", "data": {"weight": 1}},
            {"source": "ab", "target": "B", "data": {"weight": 1}},
            {"source": "A", "target": "end"},
            {"source": "B", "target": "end"},
        ],
    }


class Leads:
    """The campaign's leads and what each received, through the api and the simulator."""

    def __init__(self, caller: Caller, sim: httpx.AsyncClient, cid: int) -> None:
        self.caller, self.sim, self.cid = caller, sim, cid
        self.arm: dict[str, str] = {}

    async def add(self, n: int, *, launch: bool = False) -> list[str]:
        names = [unique() for _ in range(n)]
        ids = [
            (await self.caller.ok("post", "/contacts", json={"username": p}))["id"] for p in names
        ]
        await self.caller.ok(
            "post", f"/campaign-flows/{self.cid}/contacts", json={"contact_ids": ids}
        )
        if launch:
            await self.caller.ok("post", f"/campaign-flows/{self.cid}/launch")
        await eventually(lambda: self._all_received(names), timeout=60)
        return names

    async def _all_received(self, names: list[str]) -> bool:
        for peer in names:
            texts = await received(self.sim, peer)
            if len(texts) != 1:
                return False
            self.arm[peer] = next(n for n, t in TEXTS.items() if t == texts[0])
        return True

    def sizes(self) -> dict[str, int]:
        return {n: sum(1 for a in self.arm.values() if a == n) for n in TEXTS}

    async def ab_test(self) -> dict[str, Any]:
        stats = await self.caller.ok("get", f"/campaign-flows/{self.cid}/statistics")
        tests: list[dict[str, Any]] = stats["ab_tests"]
        assert len(tests) == 1, tests
        return tests[0]

    async def exposed(self) -> dict[str, tuple[int, int]]:
        test = await self.ab_test()
        return {a["name"]: (a["exposed"], a["successes"]) for a in test["arms"]}


async def run_until_decided(
    make_user: Any, sim: httpx.AsyncClient, flow: dict[str, Any]
) -> tuple[Leads, dict[str, Any]]:
    caller: Caller = await make_user(org=unique("org"))
    cid, account_id, _ = await campaign_with_contacts(caller, [], flow=flow)
    phone = (await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    leads = Leads(caller, sim, cid)
    await leads.add(4, launch=True)
    # Until each arm has its sample (the draw is random: add leads until it does).
    while min(leads.sizes().values()) < MIN_SAMPLE:
        assert len(leads.arm) < 40, leads.arm
        await leads.add(2)
    # Every lead of arm A answers (or reads), no lead of arm B does.
    for peer in [p for p, a in leads.arm.items() if a == "A"]:
        if flow_metric(flow) == "read_rate":
            await sim.post(f"/peers/{peer}/read", json={"account": phone})
        else:
            await sim.post(f"/peers/{peer}/reply", json={"account": phone, "text": "Tell me more"})
    counts = leads.sizes()
    want = {"A": (counts["A"], counts["A"]), "B": (counts["B"], 0)}
    await eventually(lambda: _equal(leads.exposed(), want), timeout=30)
    # Nobody has reached the node since the replies: nothing is decided yet.
    assert (await leads.ab_test())["decision"] is None
    late = await leads.add(5)
    assert all(leads.arm[p] == "A" for p in late), {p: leads.arm[p] for p in late}
    return leads, {"counts": counts, "late": late}


def flow_metric(flow: dict[str, Any]) -> str:
    return str(
        next(
            n["data"]["auto_winner"]["metric"]
            for n in flow["nodes"]
            if n.get("data", {}).get("auto_winner")
        )
    )


async def _equal(got: Any, want: Any) -> bool:
    return bool(await got == want)


@pytest.mark.parametrize(
    "flow",
    [variants_flow(), split_flow(), variants_flow("read_rate")],
    ids=["variants", "split", "variants-read-rate"],
)
async def test_new_leads_take_the_arm_replied_to_far_more(
    make_user: Any, sim: httpx.AsyncClient, flow: dict[str, Any]
) -> None:
    leads, seen = await run_until_decided(make_user, sim, flow)
    counts = seen["counts"]
    test = await leads.ab_test()
    decision = test["decision"]
    assert decision is not None and decision["winner"] == "A"
    # The numbers it was decided on: every A lead replied, no B lead did.
    at_decision = {a["name"]: (a["exposed"], a["successes"]) for a in decision["arms"]}
    assert at_decision == {"A": (counts["A"], counts["A"]), "B": (counts["B"], 0)}
    assert decision["z"] >= decision["threshold"] > 0 and decision["p_value"] < 0.05
    assert [a["winner"] for a in test["arms"]] == [True, False]
    # The late leads count for A now; B keeps its sample (its leads stayed on it).
    assert await leads.exposed() == {"A": (counts["A"] + 5, counts["A"]), "B": (counts["B"], 0)}
    logs = await leads.caller.ok(
        "get", f"/campaign-flows/{leads.cid}/logs", params={"event_type": "ab_winner"}
    )
    assert len(logs["items"]) == 1
    assert logs["items"][0]["details"]["winner"] == "A"
    assert logs["items"][0]["node_id"] == test["node_id"]


async def test_invalid_auto_winner_is_a_422_naming_node_and_field(make_user: Any) -> None:
    caller: Caller = await make_user()
    flow = variants_flow()
    flow["nodes"][1]["data"]["auto_winner"] = {"metric": "clicks", "min_sample": 3}
    resp = await caller.post("/campaign-flows", json={"name": "x", "timezone": "UTC", "flow": flow})
    assert resp.status_code == 422, resp.text
    assert "hello" in resp.text and "auto_winner.metric" in resp.text
    flow["nodes"][1]["data"]["auto_winner"] = {"min_sample": 3, "confidence": 1.0}
    resp = await caller.post("/campaign-flows", json={"name": "x", "timezone": "UTC", "flow": flow})
    assert resp.status_code == 422 and "auto_winner.confidence" in resp.text, resp.text


async def test_a_preview_takes_the_decided_winner(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    """What a new lead would receive once the winner is decided: the winner's text, as
    the run then sends it (before, the lead's own draw)."""
    leads, _ = await run_until_decided(make_user, sim, variants_flow())
    for i in range(6):
        preview = await leads.caller.ok(
            "post",
            f"/campaign-flows/{leads.cid}/preview",
            json={"contact": {"username": f"preview_{unique()}_{i}", "first_name": "P"}},
        )
        texts = [s["text"] for s in preview["steps"] if s["text"]]
        assert texts[:1] == [TEXTS["A"]], preview
