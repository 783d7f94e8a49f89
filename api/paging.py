"""Shapes shared by every list endpoint, and its one cursor paging."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    count: int


R = TypeVar("R")


def cut(rows: Sequence[R], limit: int, key: Callable[[R], object]) -> tuple[list[R], str | None]:
    """Keyset paging: of the limit + 1 rows read, the page's and the next page's cursor
    (the key of the page's last row), None when nothing follows."""
    kept = list(rows[:limit])
    return kept, str(key(kept[-1])) if len(rows) > limit else None
