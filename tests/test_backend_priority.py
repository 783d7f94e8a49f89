"""The api's PostgreSQL backends yield the CPU when the server runs on this host."""

from __future__ import annotations

import os

import pytest

from db.backend_priority import lower_backend_priority, renice_local_backend
from db.session import make_engine


async def _backend(url: str, nice: int) -> tuple[bool, int]:
    """Whether this process may renice the backend a new engine connects to, and its
    niceness."""
    engine = make_engine(url)
    if nice:
        lower_backend_priority(engine, nice)
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            info = raw.driver_connection.info  # type: ignore[union-attr]
            pid = int(info.backend_pid)
            may = renice_local_backend(str(info.host), pid, 0)
            return may, os.getpriority(os.PRIO_PROCESS, pid)
    finally:
        await engine.dispose()


async def test_the_api_engine_lowers_its_local_backends_priority(database_url: str) -> None:
    may, plain = await _backend(database_url, 0)
    if not may:
        pytest.skip("the test database is not a server this process may renice")
    _, lowered = await _backend(database_url, 3)
    assert lowered == min(19, plain + 3)


def test_a_remote_server_or_a_process_that_is_not_a_backend_is_left_alone() -> None:
    mine = os.getpriority(os.PRIO_PROCESS, os.getpid())
    assert not renice_local_backend("db.example.com", os.getpid(), 5)
    assert not renice_local_backend("127.0.0.1", os.getpid(), 5)  # not postgres
    assert os.getpriority(os.PRIO_PROCESS, os.getpid()) == mine
