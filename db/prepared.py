"""Hot statements run on the driver connection of a session's transaction.

Every send runs a handful of statements, and through the ORM session each costs more
worker CPU than PostgreSQL spends on it (the session's execution, the statement cache's
key, the result's rows): about 1.5 ms of CPU for a transaction of two statements, against
0.5 ms on psycopg. A statement prepared here is compiled once to SQL text with its bound
parameters' conversions (JSONB), and then runs on psycopg directly, in the session's own
transaction: the same SQL, locks and order as through the session, nothing of the ORM.

Only constructs that are constants of db/repositories come here, so the SQL text is
fixed; every value travels as a bind parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, LiteralString, cast

from psycopg import AsyncConnection
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement's SQL text, the values it binds itself, and how each value it is given
    is converted for psycopg (SQLAlchemy's bind processors, as its session would)."""

    sql: LiteralString
    constants: Mapping[str, Any]
    conversions: Mapping[str, Callable[[Any], Any]]

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        given = {
            name: value if (convert := self.conversions.get(name)) is None else convert(value)
            for name, value in values.items()
        }
        return {**self.constants, **given}


# Above the number of statement shapes the repositories cache (executions: 128).
@lru_cache(maxsize=256)
def prepare(statement: ClauseElement, dialect: Dialect) -> Prepared:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("an expanding IN is rendered per execution: not preparable")
    constants: dict[str, Any] = {}
    conversions: dict[str, Callable[[Any], Any]] = {}
    for bind in set(compiled.binds.values()):
        name = compiled.bind_names[bind]
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if bind.value is not None or not bind.required:
            value = bind.effective_value
            constants[name] = convert(value) if convert is not None else value
        if convert is not None:
            conversions[name] = convert
    # The text comes from a constant construct, never from values (see the module's doc).
    return Prepared(compiled.string, constants, conversions)


async def _driver(session: AsyncSession) -> tuple[AsyncConnection[Any], Dialect]:
    """The psycopg connection the session's transaction runs on (begun if not yet)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return cast(AsyncConnection[Any], raw.driver_connection), connection.dialect


async def fetch_one(
    session: AsyncSession, statement: ClauseElement, values: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """The statement's first row (or None), run in the session's transaction."""
    driver, dialect = await _driver(session)
    prepared = prepare(statement, dialect)
    async with driver.cursor() as cursor:
        await cursor.execute(prepared.sql, prepared.parameters(values))
        row: tuple[Any, ...] | None = await cursor.fetchone()
        return row


async def execute(
    session: AsyncSession, statement: ClauseElement, values: Mapping[str, Any]
) -> None:
    """Run the statement in the session's transaction; its rows, if any, are dropped."""
    driver, dialect = await _driver(session)
    prepared = prepare(statement, dialect)
    async with driver.cursor() as cursor:
        await cursor.execute(prepared.sql, prepared.parameters(values))
