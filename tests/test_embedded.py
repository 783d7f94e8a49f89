"""The embedded PostgreSQL's data directory rules (db/embedded.py)."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from db.embedded import SYSTEM_USER, IncompatibleDataDirectory, adopt, check_data_directory


def test_a_data_directory_of_another_major_is_refused_with_what_to_do(tmp_path: Path) -> None:
    pgdata = tmp_path / "pg"
    pgdata.mkdir()
    check_data_directory(pgdata, 18)  # empty: created on start
    (pgdata / "PG_VERSION").write_text("18\n")
    check_data_directory(pgdata, 18)
    (pgdata / "PG_VERSION").write_text("16\n")
    with pytest.raises(IncompatibleDataDirectory, match=f"mv {pgdata} {pgdata}-pg16"):
        check_data_directory(pgdata, 18)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user")
def test_a_data_directory_of_the_earlier_default_is_handed_to_the_server_user(
    tmp_path: Path,
) -> None:
    # As the earlier default left it: every file owned by its own system user.
    pgdata = tmp_path / "pg"
    (pgdata / "global").mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text("18\n")
    (pgdata / "global" / "pg_control").write_bytes(b"x")
    other = pwd.getpwnam("nobody")
    for path in (pgdata, pgdata / "global", pgdata / "PG_VERSION", pgdata / "global/pg_control"):
        os.chown(path, other.pw_uid, other.pw_gid)
    assert adopt(pgdata)
    owner = pwd.getpwnam(SYSTEM_USER).pw_uid
    assert {p.stat().st_uid for p in [pgdata, *pgdata.rglob("*")]} == {owner}
    assert not adopt(pgdata)  # once
