"""Bad input refused at the door (issue 14): templates, limits, windows, flows, bodies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import Caller, campaign_with_contacts, eventually, two_step_flow, unique
from workflows.limits import MAX_FLOW_NODES, MAX_JSON_BODY_BYTES


def _send_flow(text: str) -> dict[str, Any]:
    return two_step_flow(text)


def _delay_flow(seconds: Any) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "nap", "type": "delay", "data": {"seconds": seconds}},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"source": "start", "target": "nap"}, {"source": "nap", "target": "end"}],
    }


async def _create(caller: Caller, flow: Any, **extra: Any) -> httpx.Response:
    return await caller.post("/campaign-flows", json={"name": "x", "flow": flow, **extra})


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{first_name:>20000000}", "is not a variable"),
        ("{first_name.__class__.__mro__}", "unknown variable"),
        ("{first_name[0]}", "is not a variable"),
        ("{unknown_var}", "unknown variable {unknown_var}"),
        ("Hi {first_name", "unclosed '{'"),
        ("Hi }", "unmatched '}'"),
        ("{0}", "is not a variable"),
        ("x" * 4097, "Telegram's limit is 4096"),
        ("x" * 100_000, "Telegram's limit is 4096"),
    ],
)
async def test_bad_templates_are_422_naming_the_node(
    make_user: Any, text: str, fragment: str
) -> None:
    caller: Caller = await make_user()
    resp = await _create(caller, _send_flow(text))
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "invalid" and body["field"] == "flow"
    assert "node 'hello'" in body["detail"] and fragment in body["detail"]


async def test_good_templates_are_accepted(make_user: Any) -> None:
    caller: Caller = await make_user()
    for text in ["Hi {first_name|there}!", "{custom.city|your city} {{literal}}", "x" * 4096]:
        resp = await _create(caller, _send_flow(text))
        assert resp.status_code == 201, (text[:40], resp.text)


@pytest.mark.usefixtures("worker")
async def test_rendered_text_over_the_limit_fails_the_execution_clearly(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, _, _ = await campaign_with_contacts(
        caller, [], flow=_send_flow("x" * 3500 + "{custom.bio}")
    )
    contact = await caller.ok(
        "post", "/contacts", json={"username": peer, "custom_fields": {"bio": "y" * 1000}}
    )
    await caller.ok(
        "post", f"/campaign-flows/{cid}/contacts", json={"contact_ids": [contact["id"]]}
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def failed() -> Any:
        row = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"][0]
        return row if row["status"] == "failed" else None

    row = await eventually(failed)
    assert "node 'hello'" in row["error_message"].lower() or "Node 'hello'" in row["error_message"]
    assert "4096" in row["error_message"]
    assert (await sim.get(f"/peers/{peer}/messages")).json()["items"] == []


@pytest.mark.parametrize(
    "seconds", [1e12, "99999999999999999999w", -1, 0, True, "soon", 365 * 86400 + 1, "53w", None]
)
async def test_delays_out_of_bounds_are_422(make_user: Any, seconds: Any) -> None:
    caller: Caller = await make_user()
    resp = await _create(caller, _delay_flow(seconds))
    assert resp.status_code == 422, resp.text
    assert "node 'nap'" in resp.json()["detail"]


async def test_nan_delay_is_422(make_user: Any) -> None:
    caller: Caller = await make_user()
    raw = json.dumps({"name": "x", "flow": _delay_flow(1)}).replace(
        '"seconds": 1', '"seconds": NaN'
    )
    resp = await caller.post(
        "/campaign-flows", content=raw, headers={"content-type": "application/json"}
    )
    assert resp.status_code == 422 and "node 'nap'" in resp.json()["detail"]


@pytest.mark.parametrize("seconds", [1, "365d", "52w", 3600.5])
async def test_delays_within_bounds_are_accepted(make_user: Any, seconds: Any) -> None:
    caller: Caller = await make_user()
    assert (await _create(caller, _delay_flow(seconds))).status_code == 201


async def test_wait_timeouts_are_bounded_too(make_user: Any) -> None:
    caller: Caller = await make_user()
    flow = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "w", "type": "wait_for_reply", "data": {"timeout_seconds": "400d"}},
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "w"},
            {"source": "w", "target": "end", "label": "replied"},
            {"source": "w", "target": "end", "label": "no_reply"},
        ],
    }
    resp = await _create(caller, flow)
    assert resp.status_code == 422 and "node 'w'" in resp.json()["detail"]


async def test_flow_size_limits(make_user: Any) -> None:
    caller: Caller = await make_user()
    n = MAX_FLOW_NODES + 1
    nodes = [{"id": "start", "type": "start"}]
    nodes += [{"id": f"n{i}", "type": "send_message", "data": {"text": "hi"}} for i in range(n)]
    resp = await _create(caller, {"nodes": nodes, "edges": []})
    assert resp.status_code == 422 and "at most 500 nodes" in resp.json()["detail"]
    # Under 500 nodes but over 256 KB.
    big = two_step_flow("hi")
    big["nodes"][1]["data"]["note"] = "z" * 300_000
    resp = await _create(caller, big)
    assert resp.status_code == 422 and "at most 262144 bytes" in resp.json()["detail"]


async def test_cycle_without_a_wait_is_422_naming_the_cycle(make_user: Any) -> None:
    caller: Caller = await make_user()
    flow = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "a", "type": "send_message", "data": {"text": "a"}},
            {"id": "b", "type": "send_message", "data": {"text": "b"}},
        ],
        "edges": [
            {"source": "start", "target": "a"},
            {"source": "a", "target": "b"},
            {"source": "b", "target": "a"},
        ],
    }
    resp = await _create(caller, flow)
    assert resp.status_code == 422
    assert "a -> b -> a" in resp.json()["detail"]


async def test_bounded_names_and_descriptions(make_user: Any) -> None:
    caller: Caller = await make_user()
    resp = await _create(caller, two_step_flow(), description="d" * 10_001)
    assert resp.status_code == 422 and resp.json()["field"] == "description"
    resp = await caller.post("/campaign-flows", json={"name": "n" * 201, "flow": two_step_flow()})
    assert resp.status_code == 422 and resp.json()["field"] == "name"
    resp = await caller.post(
        "/contacts", json={"username": unique(), "custom_fields": {"bio": "b" * 1001}}
    )
    assert resp.status_code == 422 and "custom_fields" in resp.json()["field"]
    resp = await caller.post(
        "/contacts", json={"username": unique(), "custom_fields": {f"k{i}": 1 for i in range(51)}}
    )
    assert resp.status_code == 422


@pytest.mark.parametrize(
    ("window", "fragment"),
    [
        ({"start": "09:00", "end": "09:00"}, "never open"),
        ({"days": [], "start": "09:00", "end": "17:00"}, "days"),
        ({"start": "9am", "end": "17:00"}, "HH:MM"),
        ({"start": "24:00", "end": "17:00"}, "HH:MM"),
    ],
)
async def test_empty_or_malformed_sending_windows_are_422(
    make_user: Any, window: dict[str, Any], fragment: str
) -> None:
    caller: Caller = await make_user()
    resp = await _create(caller, two_step_flow(), sending_window=window)
    assert resp.status_code == 422 and fragment in resp.json()["detail"], resp.text
    assert resp.json()["field"].startswith("sending_window")


async def test_overnight_window_is_accepted(make_user: Any) -> None:
    caller: Caller = await make_user()
    window = {"days": [4, 5], "start": "22:00", "end": "06:00"}
    created = await caller.ok(
        "post",
        "/campaign-flows",
        json={"name": "x", "flow": two_step_flow(), "sending_window": window},
    )
    assert created["sending_window"] == window


async def test_oversize_json_body_is_413_from_its_declared_length(make_user: Any) -> None:
    caller: Caller = await make_user()
    body = b'{"name": "' + b"x" * MAX_JSON_BODY_BYTES + b'"}'
    resp = await caller.post(
        "/campaign-flows", content=body, headers={"content-type": "application/json"}
    )
    assert resp.status_code == 413 and resp.json()["code"] == "body_too_large"


async def test_oversize_chunked_body_is_413_without_reading_the_rest(make_user: Any) -> None:
    caller: Caller = await make_user()
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"name": "'
        for _ in range(100):  # 100 MB if it were all read
            sent += 1
            yield b"x" * (1024 * 1024)
        yield b'"}'

    resp = await caller.post(
        "/campaign-flows", content=chunks(), headers={"content-type": "application/json"}
    )
    assert resp.status_code == 413 and resp.json()["code"] == "body_too_large"
    assert sent <= 3  # it stopped reading just past the limit


@pytest.mark.parametrize(
    ("content", "ctype", "code"),
    [
        (b"{not json", "application/json", "invalid_json"),
        (b'{"name": "\xff\xfe"}', "application/json", "invalid_body"),
        (b'{"name": "a\\u0000b", "flow": {}}', "application/json", "nul_byte"),
        (b'{"name": "a\x00b"}', "application/json", "nul_byte"),
    ],
)
async def test_body_errors_are_json_with_a_code(
    make_user: Any, content: bytes, ctype: str, code: str
) -> None:
    caller: Caller = await make_user()
    resp = await caller.post("/campaign-flows", content=content, headers={"content-type": ctype})
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == code and resp.json()["detail"]


async def test_nul_in_query_and_unknown_routes_answer_json(
    make_user: Any, api: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user()
    cid, _, _ = await campaign_with_contacts(caller, [])
    resp = await caller.get(f"/campaign-flows/{cid}/logs?format=csv&search=a%00b")
    assert resp.status_code == 422 and resp.json()["code"] == "nul_byte"
    resp = await caller.get("/contacts", params={"search": "a\x00b"})
    assert resp.status_code == 422 and resp.json()["code"] == "nul_byte"
    resp = await api.get("/contacts/1/no-such-route")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    resp = await api.put("/health/live")
    assert resp.status_code == 405 and resp.json()["code"] == "method_not_allowed"


async def test_security_headers_and_offline_docs(api: httpx.AsyncClient) -> None:
    for path in ["/health/live", "/contacts/1/no-such-route", "/docs", "/openapi.json"]:
        resp = await api.get(path)
        assert resp.headers["x-content-type-options"] == "nosniff", path
        assert resp.headers["referrer-policy"] == "no-referrer"
        assert resp.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
        assert "server" not in resp.headers
    for page in ["/docs", "/redoc"]:
        html = (await api.get(page)).text
        assert "http://" not in html and "https://" not in html  # nothing from a CDN
        csp = (await api.get(page)).headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
        for src in [s.split('"')[0] for s in html.split('src="')[1:]]:
            asset = await api.get(src)
            assert asset.status_code == 200 and len(asset.content) > 100, src
