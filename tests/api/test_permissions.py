"""Every permission and status rule of the seed, cell by cell, through HTTP.

The expectations are written from the seed's text here, independently of api/policies.py.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.identity.service import ensure_membership, get_or_create_user, issue_token
from api.policies import Role
from db.models import CampaignFlow, Contact, FlowExecution, TelegramAccount
from db.session import SessionFactory
from tests.conftest import two_step_flow

ROLES = ["owner", "admin", "member"]
STATUSES = ["draft", "scheduled", "active", "paused", "completed", "cancelled"]
ACTIONS = [
    "view",
    "edit_metadata",
    "edit_flow",
    "delete",
    "restore",
    "duplicate",
    "launch",
    "pause",
    "stop",
    "enable",
    "disable",
    "add_contacts",
    "remove_contacts",
]
SUCCESS = {"delete": 204, "duplicate": 201}


def expected(role: str, own: bool, admin_view: bool, action: str, status: str) -> int:
    """The seed: own campaigns are yours; others' only for owners/admins with admin view."""
    if not own:
        if role == "member" or not admin_view:
            return 404
        if action in ("launch", "pause", "stop"):
            return 403  # only the creator launches, pauses and stops
    if action == "edit_flow" and status not in ("draft", "paused", "scheduled"):
        return 409
    if action == "launch" and status not in ("draft", "paused"):
        return 409
    if action == "pause" and status not in ("active", "scheduled"):
        return 409
    if action == "stop" and status not in ("active", "paused", "scheduled"):
        return 409
    if action == "add_contacts" and status == "cancelled":
        return 409  # a stopped campaign never runs again (issue 13)
    return SUCCESS.get(action, 200)


@dataclass
class Org:
    id: int
    admin_view: bool
    tokens: dict[str, str]
    user_ids: dict[str, int]
    account_id: int
    contact_ids: list[int]


@dataclass
class World:
    orgs: dict[bool, Org]
    outsider: Org
    personal: dict[str, tuple[str, int, int, list[int]]]


async def make_org(sessions: SessionFactory, admin_view: bool) -> Org:
    name = f"perm-{secrets.token_hex(4)}"
    tokens, ids = {}, {}
    async with sessions.begin() as session:
        for who in [*ROLES, "creator"]:
            user = await get_or_create_user(session, f"{who}-{secrets.token_hex(4)}@example.com")
            role = Role.MEMBER if who == "creator" else Role(who)
            org = await ensure_membership(session, user, name, role)
            _, tokens[who] = await issue_token(session, user)
            ids[who] = user.id
        org.admin_view_enabled = admin_view
        account = TelegramAccount(
            user_id=ids["creator"],
            organization_id=org.id,
            provider="simulator",
            phone=f"+3{secrets.randbelow(10**9)}",
        )
        contacts = [
            Contact(
                user_id=ids["creator"],
                organization_id=org.id,
                username=f"p{secrets.token_hex(5)}",
                first_name="P",
            )
            for _ in range(2)
        ]
        session.add_all([account, *contacts])
        await session.flush()
        return Org(org.id, admin_view, tokens, ids, account.id, [c.id for c in contacts])


async def make_personal(sessions: SessionFactory) -> tuple[str, int, int, list[int]]:
    async with sessions.begin() as session:
        user = await get_or_create_user(session, f"solo-{secrets.token_hex(4)}@example.com")
        _, token = await issue_token(session, user)
        account = TelegramAccount(
            user_id=user.id,
            organization_id=None,
            provider="simulator",
            phone=f"+4{secrets.randbelow(10**9)}",
        )
        contacts = [
            Contact(
                user_id=user.id,
                organization_id=None,
                username=f"s{secrets.token_hex(5)}",
                first_name="S",
            )
            for _ in range(2)
        ]
        session.add_all([account, *contacts])
        await session.flush()
        return token, user.id, account.id, [c.id for c in contacts]


@pytest.fixture(scope="module")
async def world(sessions: SessionFactory) -> World:
    orgs = {flag: await make_org(sessions, flag) for flag in (True, False)}
    personal = {k: await make_personal(sessions) for k in ("me", "other")}
    return World(orgs, await make_org(sessions, True), personal)


async def make_campaign(
    sessions: SessionFactory,
    *,
    creator: int,
    org_id: int | None,
    account_id: int,
    contact_id: int,
    status: str,
    deleted: bool = False,
) -> int:
    async with sessions.begin() as session:
        campaign = CampaignFlow(
            name=f"c-{status}",
            status=status,
            enabled=True,
            telegram_account_id=account_id,
            timezone="UTC",
            flow=two_step_flow(),
            created_by=creator,
            organization_id=org_id,
            scheduled_start_at=datetime.now(UTC) + timedelta(days=30)
            if status == "scheduled"
            else None,
            deleted_at=datetime.now(UTC) if deleted else None,
        )
        session.add(campaign)
        await session.flush()
        session.add(FlowExecution(campaign_id=campaign.id, contact_id=contact_id, status="pending"))
        return campaign.id


async def perform(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    cid: int,
    action: str,
    add_id: int,
    remove_id: int,
) -> httpx.Response:
    base = f"/campaign-flows/{cid}"
    if action == "view":
        return await http.get(base, headers=headers)
    if action == "edit_metadata":
        return await http.patch(base, headers=headers, json={"name": "renamed"})
    if action == "edit_flow":
        return await http.patch(base, headers=headers, json={"flow": two_step_flow("Yo")})
    if action == "delete":
        return await http.delete(base, headers=headers)
    if action == "add_contacts":
        return await http.post(f"{base}/contacts", headers=headers, json={"contact_ids": [add_id]})
    if action == "remove_contacts":
        return await http.request(
            "DELETE", f"{base}/contacts", headers=headers, json={"contact_ids": [remove_id]}
        )
    return await http.post(f"{base}/{action}", headers=headers)


def auth(token: str, org_id: int | None) -> dict[str, str]:
    h = {"Authorization": f"Bearer {token}"}
    if org_id is not None:
        h["X-Organization-Id"] = str(org_id)
    return h


@pytest.mark.parametrize(
    ("role", "own", "admin_view", "action"),
    list(itertools.product(ROLES, [True, False], [True, False], ACTIONS)),
)
async def test_organization_matrix(
    world: World,
    api: httpx.AsyncClient,
    sessions: SessionFactory,
    role: str,
    own: bool,
    admin_view: bool,
    action: str,
) -> None:
    org = world.orgs[admin_view]
    creator = org.user_ids[role] if own else org.user_ids["creator"]
    wrong = []
    for status in STATUSES:
        cid = await make_campaign(
            sessions,
            creator=creator,
            org_id=org.id,
            account_id=org.account_id,
            contact_id=org.contact_ids[0],
            status=status,
            deleted=action == "restore",
        )
        resp = await perform(
            api, auth(org.tokens[role], org.id), cid, action, org.contact_ids[1], org.contact_ids[0]
        )
        want = expected(role, own, admin_view, action, status)
        if resp.status_code != want:
            wrong.append((status, want, resp.status_code, resp.text[:120]))
        elif want >= 400:
            assert resp.json()["code"] and resp.json()["detail"]
    assert not wrong, wrong


@pytest.mark.parametrize("action", ACTIONS)
async def test_personal_mode_and_other_organizations(
    world: World, api: httpx.AsyncClient, sessions: SessionFactory, action: str
) -> None:
    token, me, account, contacts = world.personal["me"]
    _, other, other_account, other_contacts = world.personal["other"]
    org = world.orgs[True]
    outsider = world.outsider
    wrong = []
    for status in STATUSES:
        deleted = action == "restore"
        mine = await make_campaign(
            sessions,
            creator=me,
            org_id=None,
            account_id=account,
            contact_id=contacts[0],
            status=status,
            deleted=deleted,
        )
        theirs = await make_campaign(
            sessions,
            creator=other,
            org_id=None,
            account_id=other_account,
            contact_id=other_contacts[0],
            status=status,
            deleted=deleted,
        )
        org_owned = await make_campaign(
            sessions,
            creator=org.user_ids["owner"],
            org_id=org.id,
            account_id=org.account_id,
            contact_id=org.contact_ids[0],
            status=status,
            deleted=deleted,
        )
        foreign = await make_campaign(
            sessions,
            creator=outsider.user_ids["owner"],
            org_id=outsider.id,
            account_id=outsider.account_id,
            contact_id=outsider.contact_ids[0],
            status=status,
            deleted=deleted,
        )
        cases = [
            (
                "own personal",
                auth(token, None),
                mine,
                expected("owner", True, False, action, status),
            ),
            ("someone's personal", auth(token, None), theirs, 404),
            ("org campaign in personal mode", auth(org.tokens["owner"], None), org_owned, 404),
            ("other org's campaign", auth(org.tokens["owner"], org.id), foreign, 404),
            ("org the caller is not in", auth(org.tokens["owner"], outsider.id), foreign, 404),
        ]
        for label, headers, cid, want in cases:
            add_id = contacts[1] if cid == mine else org.contact_ids[1]
            resp = await perform(api, headers, cid, action, add_id, contacts[0])
            if resp.status_code != want:
                wrong.append((label, status, want, resp.status_code, resp.text[:100]))
    assert not wrong, wrong


@pytest.mark.parametrize("admin_view", [True, False])
async def test_list_view_modes_return_exact_sets(
    sessions: SessionFactory, api: httpx.AsyncClient, admin_view: bool
) -> None:
    org = await make_org(sessions, admin_view)
    made: dict[str, int] = {}
    for who in [*ROLES, "creator"]:
        made[who] = await make_campaign(
            sessions,
            creator=org.user_ids[who],
            org_id=org.id,
            account_id=org.account_id,
            contact_id=org.contact_ids[0],
            status="draft",
        )
    await make_campaign(
        sessions,
        creator=org.user_ids["creator"],
        org_id=org.id,
        account_id=org.account_id,
        contact_id=org.contact_ids[1],
        status="draft",
        deleted=True,
    )
    everyone = set(made.values())
    for role in ROLES:
        for mode in ("own", "all"):
            resp = await api.get(
                "/campaign-flows",
                params={"view_mode": mode},
                headers=auth(org.tokens[role], org.id),
            )
            assert resp.status_code == 200
            got = {c["id"] for c in resp.json()["items"]}
            sees_all = mode == "all" and admin_view and role in ("owner", "admin")
            assert got == (everyone if sees_all else {made[role]}), (role, mode)
        personal = await api.get(
            "/campaign-flows", params={"view_mode": "all"}, headers=auth(org.tokens[role], None)
        )
        assert personal.json()["items"] == []


async def test_missing_or_bad_token_is_401(api: httpx.AsyncClient) -> None:
    assert (await api.get("/campaign-flows")).status_code == 401
    resp = await api.get("/campaign-flows", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401 and resp.json()["code"] == "unauthenticated"


async def test_settings_and_members_rules(
    world: World, api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    org = await make_org(sessions, False)
    path = f"/organizations/{org.id}"
    for role, code in (("owner", 200), ("admin", 200), ("member", 403)):
        resp = await api.patch(
            f"{path}/settings",
            headers=auth(org.tokens[role], org.id),
            json={"admin_view_enabled": True},
        )
        assert resp.status_code == code, role
    # Only an owner makes an owner; admins manage members; the last owner stays.
    admin_h, owner_h = auth(org.tokens["admin"], None), auth(org.tokens["owner"], None)
    member_id = org.user_ids["member"]
    resp = await api.patch(f"{path}/members/{member_id}", headers=admin_h, json={"role": "owner"})
    assert resp.status_code == 403
    resp = await api.patch(f"{path}/members/{member_id}", headers=admin_h, json={"role": "admin"})
    assert resp.status_code == 200
    resp = await api.delete(f"{path}/members/{org.user_ids['owner']}", headers=owner_h)
    assert resp.status_code == 409 and resp.json()["code"] == "last_owner"
    resp = await api.delete(f"{path}/members/{org.user_ids['owner']}", headers=admin_h)
    assert resp.status_code == 403
    outsider_h = auth(world.outsider.tokens["owner"], None)
    assert (await api.get(f"{path}/members", headers=outsider_h)).status_code == 404


def test_expected_covers_every_cell() -> None:
    codes = {
        expected(*cell)
        for cell in itertools.product(ROLES, [True, False], [True, False], ACTIONS, STATUSES)
    }
    assert codes == {200, 201, 204, 403, 404, 409}
