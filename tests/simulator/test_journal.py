"""A restarted simulator keeps its messages, deduplication and update offsets."""

from pathlib import Path

import pytest

from simulator.state import SendRefused, World


async def test_a_restart_keeps_messages_offsets_and_deduplication(tmp_path: Path) -> None:
    journal = tmp_path / "simulator.jsonl"
    before = World(journal=journal)
    sent = before.send("+1", "lead", "hello", random_id=7)
    before.push_update("+1", {"kind": "message", "peer": "lead", "text": "hi", "id": 2})
    before.push_update("+1", {"kind": "read", "peer": "lead", "max_id": sent["id"]})

    after = World(journal=journal)  # the simulator process started again
    assert [m["text"] for m in after.inbox["lead"]] == ["hello"]
    assert after.send("+1", "lead", "hello", random_id=7) == sent  # still deduplicated
    assert len(after.inbox["lead"]) == 1
    assert [u["offset"] for u in await after.updates("+1", 1, 0)] == [2]
    assert after.send("+1", "lead", "next", random_id=8)["id"] == 3  # ids never repeat
    third = after.push_update("+1", {"kind": "read", "peer": "lead", "max_id": 3})
    assert third["offset"] == 3  # nor do offsets start again at 1


def test_a_half_written_last_line_is_skipped(tmp_path: Path) -> None:
    journal = tmp_path / "simulator.jsonl"
    World(journal=journal).send("+1", "lead", "hello", random_id=7)
    with journal.open("a") as f:
        f.write('{"t": "sent", "phone"')  # killed mid-write
    assert len(World(journal=journal).inbox["lead"]) == 1


def test_a_phone_is_imported_unless_no_user_has_it() -> None:
    world = World()
    first = world.import_contact("+1", "+15550001")
    assert first == world.import_contact("+1", "+15550001")  # the same user each time
    assert first["access_hash"] != world.import_contact("+2", "+15550001")["access_hash"]
    world.arm({"type": "unknown_phone", "peer": "+15550002"})
    with pytest.raises(SendRefused) as refused:
        world.import_contact("+1", "+15550002")
    assert refused.value.payload["error"] == "PHONE_NOT_ON_TELEGRAM"
