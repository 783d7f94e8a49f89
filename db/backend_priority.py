"""Lower the CPU priority of an engine's own PostgreSQL backends when the server runs on
this host (the embedded dev stack's, a test's): the api's reads then take from the CPU
the worker's statements leave, as the api process itself does (issue 19, item 5)."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def lower_backend_priority(engine: AsyncEngine, nice: int) -> None:
    """Add `nice` to the niceness of each backend the engine connects to, if local."""

    @event.listens_for(engine.sync_engine, "connect")
    def _renice(dbapi_connection: Any, _record: Any) -> None:
        info = dbapi_connection.driver_connection.info
        renice_local_backend(str(info.host), int(info.backend_pid), nice)


def renice_local_backend(host: str, pid: int, nice: int) -> bool:
    """Renice the backend `pid` if `host` is this machine, `pid` is a PostgreSQL process
    here (a pid from another host may name anything here) and the system lets us."""
    if not (host.startswith("/") or host in _LOCAL_HOSTS):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if not f.read().startswith(b"postgres"):
                return False
    except OSError:
        return False
    with contextlib.suppress(OSError):
        current = os.getpriority(os.PRIO_PROCESS, pid)
        os.setpriority(os.PRIO_PROCESS, pid, min(19, current + nice))
        return True
    return False
