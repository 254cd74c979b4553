"""Hot-path reads: a Core statement compiled once, run on the pooled connection's driver.

SQLAlchemy's execution path costs more per call than the query itself on a single-row read
(bench/request_overhead.py; measured on this machine: ~240 us CPU per call through Core with a
constant statement, ~150 us through asyncpg directly). The statement is still written in Core
against the models, and runs on the request's own pooled connection (so in tests inside the
test's transaction); only the execution skips SQLAlchemy's layers. Meant for statements whose
parameters and columns asyncpg converts by itself (uuid, text, numbers, timestamps, arrays).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


class PreparedRead:
    def __init__(self, statement: Select[Any]) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        self.sql = str(compiled)
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self._defaults: dict[str, Any] = dict(compiled.params)

    @staticmethod
    async def _driver(connection: AsyncConnection) -> Any:
        """The asyncpg connection under the pooled one (inside its transaction, if any)."""
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        return driver

    def _arguments(self, params: Mapping[str, Any]) -> list[Any]:
        unknown = set(params) - set(self._names)
        if unknown:
            raise TypeError(f"unknown parameters {sorted(unknown)}")
        values = self._defaults | dict(params)
        return [values[name] for name in self._names]

    async def all(self, connection: AsyncConnection, **params: Any) -> list[dict[str, Any]]:
        """Every row, each as a dict of column name to value."""
        rows = await (await self._driver(connection)).fetch(self.sql, *self._arguments(params))
        return [dict(row) for row in rows]

    async def one_or_none(
        self, connection: AsyncConnection, **params: Any
    ) -> dict[str, Any] | None:
        """The one row as a dict of column name to value, or None."""
        row = await (await self._driver(connection)).fetchrow(self.sql, *self._arguments(params))
        return None if row is None else dict(row)

    async def scalar(self, connection: AsyncConnection, **params: Any) -> Any:
        row = await self.one_or_none(connection, **params)
        return None if row is None else next(iter(row.values()))
