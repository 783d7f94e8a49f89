"""The Telethon provider at its boundary: the request it builds and the errors it maps."""

from __future__ import annotations

import pytest
from telethon import errors
from telethon.tl import functions, types

from activities.sending import random_id_for
from activities.telegram.base import (
    ContactRequirement,
    FloodWait,
    Peer,
    PeerFlood,
    PeerUnusable,
    Transient,
    Unauthorized,
)
from activities.telegram.telethon_provider import (
    TelethonProvider,
    build_send_request,
    map_telethon_error,
    sent_from_result,
)
from tests.activities.fake_telegram import FakeTelegram


def test_request_carries_random_id() -> None:
    rid = random_id_for(7, 1, "hello", 1)
    request = build_send_request(types.InputPeerUser(1, 2), "hi", rid)
    assert request.random_id == rid
    assert request.message == "hi"
    assert request.to_dict()["random_id"] == rid


def test_random_id_is_deterministic_and_distinct() -> None:
    assert random_id_for(7, 1, "hello", 1) == random_id_for(7, 1, "hello", 1)
    ids = {random_id_for(7, g, n, v) for g in (1, 2) for n in ("a", "b") for v in (1, 2)}
    assert len(ids) == 8
    assert all(-(2**63) <= i < 2**63 for i in ids)


@pytest.mark.parametrize(
    ("error", "expected", "code"),
    [
        (errors.PeerFloodError(None), PeerFlood, None),
        (errors.UserPrivacyRestrictedError(None), PeerUnusable, "USER_PRIVACY_RESTRICTED"),
        (errors.InputUserDeactivatedError(None), PeerUnusable, "INPUT_USER_DEACTIVATED"),
        (errors.UserIsBlockedError(None), PeerUnusable, "USER_IS_BLOCKED"),
        (errors.PeerIdInvalidError(None), PeerUnusable, "PEER_ID_INVALID"),
        (errors.UsernameNotOccupiedError(None), PeerUnusable, "USERNAME_NOT_OCCUPIED"),
        (errors.AuthKeyUnregisteredError(None), Unauthorized, "AuthKeyUnregistered"),
        (errors.AuthKeyDuplicatedError(None), Unauthorized, "AuthKeyDuplicated"),
        (errors.SessionRevokedError(None), Unauthorized, "SessionRevoked"),
        (ConnectionError("reset"), Transient, None),
    ],
)
def test_error_mapping(error: Exception, expected: type, code: str | None) -> None:
    mapped = map_telethon_error(error)
    assert isinstance(mapped, expected)
    if code is not None:
        assert mapped.code == code  # type: ignore[attr-defined]


def test_flood_wait_keeps_seconds() -> None:
    mapped = map_telethon_error(errors.FloodWaitError(None, capture=42))
    assert isinstance(mapped, FloodWait) and mapped.seconds == 42


def test_message_id_from_both_result_shapes() -> None:
    from datetime import UTC, datetime

    short = types.UpdateShortSentMessage(id=99, pts=1, pts_count=1, date=datetime.now(UTC))
    assert sent_from_result(short, 5).message_id == 99
    full = types.Updates(
        updates=[types.UpdateMessageID(id=123, random_id=5)],
        users=[],
        chats=[],
        date=datetime.now(UTC),
        seq=0,
    )
    assert sent_from_result(full, 5).message_id == 123


async def connected(telegram: FakeTelegram) -> TelethonProvider:
    provider = TelethonProvider(session="", api_id=1, api_hash="h", factory=telegram.client)
    await provider.connect()
    return provider


async def test_a_phone_is_resolved_by_import_and_sent_to_by_user_id_and_hash() -> None:
    telegram = FakeTelegram()
    lead = telegram.user(phone="+15550001")
    provider = await connected(telegram)
    resolved = await provider.resolve_phone("+15550001")
    assert (resolved.user_id, resolved.access_hash) == (lead.id, lead.access_hash)
    imports = [
        r for r in telegram.requests if isinstance(r, functions.contacts.ImportContactsRequest)
    ]
    assert [c.phone for c in imports[0].contacts] == ["+15550001"]
    rid = random_id_for(1, 1, "hello", 1)
    await provider.send_message(
        Peer(phone="+15550001", user_id=resolved.user_id, access_hash=resolved.access_hash),
        "hi",
        rid,
    )
    (request,) = telegram.sent
    assert request.peer == types.InputPeerUser(lead.id, lead.access_hash)
    assert request.random_id == rid
    await provider.close()


async def test_an_unknown_phone_or_a_bare_user_id_cannot_be_written_to() -> None:
    telegram = FakeTelegram()
    provider = await connected(telegram)
    with pytest.raises(PeerUnusable) as unknown:
        await provider.resolve_phone("+15550002")
    assert unknown.value.code == "PHONE_NOT_ON_TELEGRAM"
    with pytest.raises(PeerUnusable) as bare:
        await provider.send_message(Peer(user_id=42), "hi", 1)
    assert bare.value.code == "ACCESS_HASH_MISSING"
    assert telegram.sent == []
    await provider.close()


async def test_the_check_asks_telegram_and_a_failed_connect_disconnects() -> None:
    telegram = FakeTelegram()
    provider = await connected(telegram)
    telegram.requests.clear()
    await provider.check()
    assert [type(r) for r in telegram.requests] == [functions.users.GetUsersRequest]
    telegram.revoked = True
    with pytest.raises(Unauthorized):
        await provider.check()
    await provider.close()
    for _ in range(3):
        with pytest.raises(Unauthorized):
            await connected(telegram)
    assert telegram.connects == 4 and telegram.live == 0


async def test_requirements_to_contact_say_premium_or_paid_messages() -> None:
    telegram = FakeTelegram()
    premium, paid, _plain = (telegram.user(username=n) for n in ("prem", "paid", "plain"))
    telegram.requirements[premium.id] = types.RequirementToContactPremium()
    telegram.requirements[paid.id] = types.RequirementToContactPaidMessages(stars_amount=250)
    provider = await connected(telegram)
    asked = await provider.requirement_to_contact(Peer(user_id=premium.id, access_hash=7))
    assert asked == ContactRequirement("PRIVACY_PREMIUM_REQUIRED")
    by_name = await provider.requirement_to_contact(Peer(username="paid"))
    assert by_name == ContactRequirement("ALLOW_PAYMENT_REQUIRED", 250)
    assert by_name.reason.endswith("(250 per message)")
    assert await provider.requirement_to_contact(Peer(username="plain")) is None
    (request, *_) = [
        r
        for r in telegram.requests
        if isinstance(r, functions.users.GetRequirementsToContactRequest)
    ]
    assert request.id == [types.InputUser(premium.id, 7)]
    await provider.close()


def test_a_premium_error_at_send_time_is_an_unusable_peer() -> None:
    err = errors.RPCError(None, "PRIVACY_PREMIUM_REQUIRED", 403)
    mapped = map_telethon_error(err)
    assert isinstance(mapped, PeerUnusable) and mapped.code == "PRIVACY_PREMIUM_REQUIRED"
