"""The simulator's faults: what a send sees and what the health check sees."""

import pytest

from simulator.state import SendRefused, World


def test_a_counted_unauthorized_fault_refuses_the_next_send_only() -> None:
    world = World()
    world.arm({"type": "unauthorized", "account": "+1", "times": 1})
    assert not world.revoked("+1")  # the health check does not consume it
    with pytest.raises(SendRefused) as refused:
        world.send("+1", "lead", "hi", random_id=1)
    assert refused.value.payload["error"] == "AUTH_KEY_UNREGISTERED"
    assert world.send("+1", "lead", "hi", random_id=2)["text"] == "hi"


def test_a_lasting_unauthorized_fault_revokes_the_session() -> None:
    world = World()
    world.arm({"type": "unauthorized", "account": "+1"})
    assert world.revoked("+1") and not world.revoked("+2")
    for random_id in (1, 2):
        with pytest.raises(SendRefused):
            world.send("+1", "lead", "hi", random_id=random_id)
