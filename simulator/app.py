"""The simulator's HTTP API."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from simulator.state import DropResponse, SendRefused, World


class SendBody(BaseModel):
    peer: str
    text: str
    random_id: int


class ReplyBody(BaseModel):
    account: str
    text: str


class ReadBody(BaseModel):
    account: str


class ImportBody(BaseModel):
    phone: str


class FaultBody(BaseModel):
    type: Literal[
        "flood_wait",
        "peer_flood",
        "privacy_restricted",
        "deactivated",
        "drop_response",
        "unauthorized",
        "unknown_phone",
        "premium_required",
        "paid_messages",
    ]
    account: str | None = None
    peer: str | None = None
    seconds: int = Field(default=0, ge=0)
    after: int = Field(default=0, ge=0)
    times: int | None = Field(default=None, ge=1)
    stars: int = Field(default=0, ge=0)


class RequirementsBody(BaseModel):
    peers: list[str] = Field(min_length=1, max_length=100)


def create_app(world: World | None = None) -> FastAPI:
    app = FastAPI(title="tgflows Telegram simulator")
    app.state.world = world = world or World()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/accounts/{phone}/send", response_model=None)
    async def send(phone: str, body: SendBody) -> dict[str, Any] | JSONResponse:
        try:
            return world.send(phone, body.peer, body.text, body.random_id)
        except SendRefused as refused:
            return JSONResponse(status_code=400, content=refused.payload)
        except DropResponse:
            return JSONResponse(status_code=503, content={"error": "RESPONSE_DROPPED"})

    @app.post("/accounts/{phone}/import-contacts", response_model=None)
    async def import_contacts(phone: str, body: ImportBody) -> dict[str, Any] | JSONResponse:
        try:
            return world.import_contact(phone, body.phone)
        except SendRefused as refused:
            return JSONResponse(status_code=400, content=refused.payload)

    @app.post("/accounts/{phone}/requirements")
    async def requirements(phone: str, body: RequirementsBody) -> dict[str, Any]:
        """users.getRequirementsToContact; mark a user with a premium_required or
        paid_messages fault (POST /faults with its peer)."""
        return {"items": world.requirements(phone, body.peers)}

    @app.get("/accounts/{phone}/updates")
    async def updates(
        phone: str, after: int = Query(0, ge=0), timeout: float = Query(0, ge=0, le=60)
    ) -> dict[str, Any]:
        return {"updates": await world.updates(phone, after, timeout)}

    @app.get("/accounts/{phone}/health", response_model=None)
    async def account_health(phone: str) -> dict[str, str] | JSONResponse:
        if world.revoked(phone):
            return JSONResponse(status_code=401, content={"error": "AUTH_KEY_UNREGISTERED"})
        return {"status": "ok"}

    @app.get("/peers/{peer}/messages")
    async def peer_messages(peer: str) -> dict[str, Any]:
        items = world.inbox.get(peer.lower().lstrip("@"), [])
        return {"items": [{k: v for k, v in m.items() if k != "peer"} for m in items]}

    @app.post("/peers/{peer}/reply")
    async def reply(peer: str, body: ReplyBody) -> dict[str, Any]:
        acct = world.account(body.account)
        message_id = acct.next_id
        acct.next_id += 1
        return world.push_update(
            body.account,
            {
                "kind": "message",
                "peer": peer.lower().lstrip("@"),
                "text": body.text,
                "id": message_id,
            },
        )

    @app.post("/peers/{peer}/read")
    async def read(peer: str, body: ReadBody) -> dict[str, Any]:
        name = peer.lower().lstrip("@")
        sent = [m["id"] for m in world.inbox.get(name, []) if m["account"] == body.account]
        if not sent:
            raise HTTPException(404, "this peer has no message from that account")
        return world.push_update(body.account, {"kind": "read", "peer": name, "max_id": max(sent)})

    @app.post("/faults", status_code=201)
    async def arm(body: FaultBody) -> dict[str, Any]:
        return world.arm(body.model_dump()).public()

    @app.get("/faults")
    async def faults() -> dict[str, Any]:
        return {"items": [f.public() for f in world.faults]}

    @app.delete("/faults")
    async def clear() -> dict[str, int]:
        count = len(world.faults)
        world.faults.clear()
        return {"cleared": count}

    return app
