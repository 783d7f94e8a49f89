"""The one visibility rule: `scope` applies it to every read in SQL, so that no read can
forget the organization or personal filter and lists page in the database;
`is_visible` is the same rule over a row already in hand (api.policies.can_see decides
with it). Both are written here, side by side, so that they change together."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its wildcards escaped (ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def scope(
    stmt: Select[T],
    *,
    org_column: InstrumentedAttribute[int | None],
    owner_column: InstrumentedAttribute[int],
    user_id: int,
    organization_id: int | None,
    view_all: bool = False,
) -> Select[T]:
    """Rows of the caller's organization (all of them when view_all), else only their own.

    Personal mode (no organization) sees only the caller's rows with no organization.
    """
    if organization_id is None:
        return stmt.where(org_column.is_(None), owner_column == user_id)
    stmt = stmt.where(org_column == organization_id)
    return stmt if view_all else stmt.where(owner_column == user_id)


def is_visible(
    *,
    row_organization_id: int | None,
    row_owner_id: int,
    user_id: int,
    organization_id: int | None,
    view_all: bool = False,
) -> bool:
    """`scope`'s filter for one row: True exactly when `scope` would return it."""
    if organization_id is None:
        return row_organization_id is None and row_owner_id == user_id
    if row_organization_id != organization_id:
        return False
    return view_all or row_owner_id == user_id
