"""Statements in the driver's own terms, for bulk work: past SQLAlchemy's per-row parameter
handling, with values converted by the columns' own SQLAlchemy types, and the driver's own errors
raised as SQLAlchemy's."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection


def binder(column: Any, dialect: Dialect) -> Callable[[Any], Any]:
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor if processor is not None else (lambda value: value)


class DriverError(SQLAlchemyError):
    """What asyncpg raised in a call made past SQLAlchemy (``COPY``), which SQLAlchemy would
    have wrapped: callers catch ``DatabaseError`` for both."""


@contextmanager
def _driver_errors() -> Iterator[None]:
    try:
        yield
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DriverError(type(exc).__name__) from exc


class Bulk:
    """``executemany`` in the driver's own terms, past SQLAlchemy's per-row parameter handling
    (which costs more than SQLite's insert itself). Statements are written with ``?`` and turned
    into asyncpg's ``$1, $2 …``; values are converted by the columns' own SQLAlchemy types, so
    what is stored reads back exactly as if the ORM had written it."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._dialect = conn.dialect
        self.postgres = conn.dialect.name == "postgresql"

    def binder(self, column: Any) -> Callable[[Any], Any]:
        """The column type's conversion of a Python value to what the driver takes."""
        return binder(column, self._dialect)

    def bind(self, column: Any, value: Any) -> Any:
        return self.binder(column)(value)

    def _native(self, statement: str) -> str:
        if self._dialect.name != "postgresql":
            return statement
        parts = statement.split("?")
        return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))

    async def many(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            await self._conn.exec_driver_sql(self._native(statement), rows)

    async def _driver(self) -> Any:
        raw = await self._conn.get_raw_connection()
        return raw.driver_connection

    async def copy(
        self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> None:
        """PostgreSQL ``COPY`` (asyncpg, binary) on this transaction's own connection."""
        driver = await self._driver()
        with _driver_errors():
            await driver.copy_records_to_table(table, records=rows, columns=list(columns))

    async def copy_csv(self, table: str, columns: Sequence[str], data: bytes) -> None:
        """PostgreSQL ``COPY … FROM STDIN (FORMAT csv)`` of ``data`` on this transaction."""
        if data:
            driver = await self._driver()
            source = io.BytesIO(data)
            with _driver_errors():
                await driver.copy_to_table(
                    table, source=source, columns=list(columns), format="csv"
                )

    async def array(self, statement: str, *args: Any) -> list[Any]:
        """PostgreSQL: the one array ``statement`` returns, as a list (asyncpg decodes an array
        in one go; a record per element costs ~2.5 µs each)."""
        driver = await self._driver()
        with _driver_errors():
            values: list[Any] = await driver.fetchval(statement, *args)
        return values

    async def rows(
        self, statement: str, pg_statement: str, values: Sequence[Any]
    ) -> Sequence[Any]:
        """The rows of ``statement`` (SQLite: its ``IN (?…)`` gets one ``?`` per value) or of
        ``pg_statement`` (PostgreSQL: the values as one array)."""
        if self.postgres:
            statement, params = pg_statement, (list(values),)
        else:
            statement = statement.replace("?…", ", ".join("?" * len(values)))
            params = tuple(values)
        result = await self._conn.exec_driver_sql(self._native(statement), params)
        return result.all()
