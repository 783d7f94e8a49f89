"""Statements of a lead's steps, built once per shape and reused with new parameters.

Every step of every lead runs a few writes. Building a SQLAlchemy statement (coercing
columns, comparisons, values) costs more CPU than sending it to PostgreSQL, so these
statements are built once per shape, meaning the columns written and which of them are SQL
expressions, with bound parameters in place of the values, and then only executed.

An SQL expression among the values is part of the shape: pass the module constants
(`NOW`, `CLOCK`), or the statement is built again each time it is not in the cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, func
from sqlalchemy.sql.dml import Update

# now(): when the transaction began. clock_timestamp(): when the statement runs (a
# send's transaction begins before the Telegram call).
NOW = func.now()
CLOCK = func.clock_timestamp()

# How the values of one write look: each column with None (a bound value) or the
# SQL expression written.
Shape = tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Write:
    """One more row written by the same statement: `values` on `table`'s row `row_id`."""

    table: Table
    row_id: int
    values: Mapping[str, object]

    def shape(self) -> tuple[Table, Shape]:
        return self.table, shape_of(self.values)


def shape_of(values: Mapping[str, object]) -> Shape:
    return tuple(
        (key, value if isinstance(value, ColumnElement) else None) for key, value in values.items()
    )


# Parameter names never equal a column's: PostgreSQL INSERT and UPDATE statements add
# any execution parameter named like a column of their table to what they write.


def bound(shape: Shape, prefix: str) -> dict[str, Any]:
    """The values clause of a shape: bound parameters named prefix + column."""
    return {key: bindparam(prefix + key) if expr is None else expr for key, expr in shape}


def params(values: Mapping[str, object], prefix: str) -> dict[str, object]:
    return {
        prefix + key: value for key, value in values.items() if not isinstance(value, ColumnElement)
    }


def update_of(table: Table, shape: Shape, prefix: str) -> Update:
    """UPDATE table SET <shape> WHERE id = :<prefix>id."""
    return table.update().where(table.c.id == bindparam(prefix + "id")).values(bound(shape, prefix))


def write_params(writes: Sequence[Write]) -> dict[str, object]:
    out: dict[str, object] = {}
    for i, write in enumerate(writes):
        out |= params(write.values, f"w{i}_")
        out[f"w{i}_id"] = write.row_id
    return out
