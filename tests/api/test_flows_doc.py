"""docs/flows.md's complete example is a flow the api accepts and the worker runs."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Caller, eventually, unique

DOC = Path(__file__).resolve().parents[2] / "docs" / "flows.md"


def example() -> dict[str, Any]:
    block = re.search(r"```json\n(.*?)```", DOC.read_text(), re.S)
    assert block, "docs/flows.md has no json example"
    parsed: dict[str, Any] = json.loads(block.group(1))
    return parsed


@pytest.mark.usefixtures("worker")
async def test_the_documented_example_is_accepted_and_runs(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    flow = example()
    account = await caller.ok(
        "post",
        "/telegram-accounts",
        json={"provider": "simulator", "phone": f"+7{secrets.randbelow(10**10):010d}"},
    )
    peer = unique()
    contact = await caller.ok(
        "post",
        "/contacts",
        json={"username": peer, "first_name": "Ada", "custom_fields": {"tier": "gold"}},
    )
    created = await caller.ok(
        "post",
        "/campaign-flows",
        json={
            "name": "Documented",
            "telegram_account_id": account["id"],
            "flow": flow,
            "contact_ids": [contact["id"]],
        },
    )
    assert created["flow"]["nodes"][0] == {"id": "start", "type": "start", "data": None}
    await caller.ok("post", f"/campaign-flows/{created['id']}/launch")

    async def greeted() -> Any:
        return (await sim.get(f"/peers/{peer}/messages")).json()["items"]

    messages = await eventually(greeted)
    assert messages[0]["text"] == "Dear Ada, as a gold member in your city..."
