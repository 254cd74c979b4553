"""Hot-path statements: a Core statement compiled once, run on the pooled connection's driver.

SQLAlchemy's execution path costs more per call than the query itself on a single-row read
(bench/request_overhead.py; measured on this machine: ~240 us CPU per call through Core with a
constant statement, ~150 us through asyncpg directly; an ORM-enabled INSERT through a session
costs several times that). The statement is still written in Core against the models, and runs
on the request's own pooled connection, inside its transaction when it has one (in tests, the
test's); only the execution skips SQLAlchemy's layers. Given a session, a statement runs in
the session's transaction. Meant for statements whose parameters and columns asyncpg converts
by itself (uuid, text, numbers, timestamps, arrays); JSON parameters are passed as JSON text
(`as_json`). Errors the server reports are raised as SQLAlchemy's, as through a session
(IntegrityError for a constraint, DataError for a value); other errors (a lost connection) are
the driver's own, which the error handlers know.
"""

from __future__ import annotations

import json
import uuid
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy import Executable, String, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]
_BEGIN = text("SELECT 1")
_TRANSLATED: tuple[tuple[type[asyncpg.PostgresError], type[sa_exc.DBAPIError]], ...] = (
    (asyncpg.IntegrityConstraintViolationError, sa_exc.IntegrityError),
    (asyncpg.DataError, sa_exc.DataError),
)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def untruncated(column_type: Any) -> Any:
    """The type to cast a parameter to for a column: a cast to varchar(n) would silently cut a
    longer value that the column itself refuses."""
    return String() if isinstance(column_type, String) else column_type


def as_json(value: Any) -> str | None:
    """A JSON/JSONB parameter as the driver takes it (decimals and ids as strings)."""
    return None if value is None else json.dumps(value, default=_plain, separators=(",", ":"))


Executor = AsyncConnection | AsyncSession
_DRIVER = "prepared.driver"


@event.listens_for(Session, "after_transaction_end")
def _forget_driver(session: Session, transaction: SessionTransaction) -> None:
    """A session's next transaction may run on another pooled connection."""
    session.info.pop(_DRIVER, None)


async def _session_driver(session: AsyncSession) -> Any:
    """The driver connection of the session's transaction, begun on the wire: SQLAlchemy sends
    BEGIN lazily, before its own first statement, and a statement sent to the driver before
    that would run (and commit) on its own. Pending ORM changes are flushed first, so the
    statement sees them. Looked up once per transaction: the lookup costs more than a read."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    driver = session.info.get(_DRIVER)
    if driver is None:
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        if not driver.is_in_transaction():
            await connection.execute(_BEGIN)
        session.info[_DRIVER] = driver
    return driver


class Prepared:
    """`custom_plan=True` is for a statement whose best plan depends on its values (a range
    of days that may hold a hundred lines or a year's): asyncpg reuses the prepared statement,
    and after five runs PostgreSQL may settle on one generic plan, guessed for unknown values,
    that reads a whole year where an index would read a page (measured: 5 ms custom, 196 ms
    generic, for a page of a busy account's ledger). Such a statement is prepared afresh for
    each run, outside asyncpg's cache, and a statement's first runs are always planned for
    their values: one more round trip (Parse) and a planning of a fraction of a millisecond."""

    def __init__(self, statement: Executable, *, custom_plan: bool = False) -> None:
        self._custom_plan = custom_plan
        assert isinstance(statement, ClauseElement)
        compiled = statement.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        self.sql = str(compiled)
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self._defaults: dict[str, Any] = dict(compiled.params)

    @staticmethod
    async def _driver(db: Executor) -> Any:
        """The asyncpg connection under the pooled one (inside its transaction, if any)."""
        if isinstance(db, AsyncSession):
            return await _session_driver(db)
        driver = (await db.get_raw_connection()).driver_connection
        assert driver is not None
        return driver

    async def _run(self, driver: Any, method: str, args: list[Any]) -> Any:
        """`method` (fetch, fetchrow, execute) of the driver with the statement and `args`."""
        try:
            if not self._custom_plan:
                return await getattr(driver, method)(self.sql, *args)
            statement = await driver.prepare(self.sql)  # not cached: planned for these values
            return await getattr(statement, "fetch" if method == "execute" else method)(*args)
        except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError) as exc:
            translated = next(sa for pg, sa in _TRANSLATED if isinstance(exc, pg))
            # Bound values are personal data (e-mails, names): never in the message (and logs).
            raise translated(self.sql, args, exc, hide_parameters=True) from exc

    def _arguments(self, params: Mapping[str, Any]) -> list[Any]:
        unknown = set(params) - set(self._names)
        if unknown:
            raise TypeError(f"unknown parameters {sorted(unknown)}")
        values = self._defaults | dict(params)
        return [values[name] for name in self._names]

    async def all(self, db: Executor, **params: Any) -> list[dict[str, Any]]:
        """Every row, each as a dict of column name to value."""
        driver = await self._driver(db)
        rows = await self._run(driver, "fetch", self._arguments(params))
        return [dict(row) for row in rows]

    async def one_or_none(self, db: Executor, **params: Any) -> dict[str, Any] | None:
        """The one row as a dict of column name to value, or None."""
        driver = await self._driver(db)
        row = await self._run(driver, "fetchrow", self._arguments(params))
        return None if row is None else dict(row)

    async def scalar(self, db: Executor, **params: Any) -> Any:
        row = await self.one_or_none(db, **params)
        return None if row is None else next(iter(row.values()))

    async def execute(self, db: Executor, **params: Any) -> None:
        """Runs a statement that returns nothing."""
        driver = await self._driver(db)
        await self._run(driver, "execute", self._arguments(params))


# Drivers with a transaction one_snapshot began and has not seen end cleanly: a cancellation
# or an error can cut off the BEGIN or the ROLLBACK, and asyncpg then still holds the
# transaction as its own (the next BEGIN on the connection would only make a savepoint),
# whatever the server says.
_UNFINISHED: weakref.WeakSet[Any] = weakref.WeakSet()


def unusable(driver: Any) -> bool:
    """True when the driver connection is closed (its server process ended: statements run
    on the driver pass its errors by SQLAlchemy, which would not drop it) or may be inside a
    transaction nobody will end."""
    return bool(driver.is_closed() or driver.is_in_transaction()) or driver in _UNFINISHED


@asynccontextmanager
async def one_snapshot(reader: AsyncConnection) -> AsyncIterator[None]:
    """Statements run on `reader` inside the block see the database at one moment: a
    read-only REPEATABLE READ transaction. It takes no transaction id, so no other
    transaction's view waits for it (VACUUM does keep what it might still read). Inside a
    transaction already (a test's), it is that one's. The reader is dropped, not pooled,
    should the transaction not end cleanly (engine.py)."""
    driver = await Prepared._driver(reader)
    if driver.is_in_transaction():
        yield
        return
    _UNFINISHED.add(driver)
    async with driver.transaction(isolation="repeatable_read", readonly=True):
        yield
    # Only a clean end unmarks it: after a cancellation, or an error that may have cut off the
    # BEGIN or the ROLLBACK, the connection is dropped rather than trusted.
    _UNFINISHED.discard(driver)
