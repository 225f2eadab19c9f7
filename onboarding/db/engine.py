"""Engine behaviour per database: SQLite tuned for concurrent writers.

SQLite runs in WAL mode with ``busy_timeout`` 5 s and ``synchronous=NORMAL``; a write
transaction starts with ``BEGIN IMMEDIATE`` so it takes the write lock up front (a
deferred read-then-write transaction fails with "database is locked" at once,
whatever the busy timeout). Reads stay ``BEGIN DEFERRED`` and never block writers.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

WRITE = "onboarding_write"
BUSY_TIMEOUT_MS = 5000


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, connection_record) -> None:
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    write = connection.get_execution_options().get(WRITE)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def begin_write(session: Session) -> None:
    """Start ``session``'s transaction as a write transaction (call before any query).

    On SQLite this is ``BEGIN IMMEDIATE``; elsewhere a plain transaction. A session
    that already began keeps its transaction.
    """
    if not session.in_transaction():
        session.connection(execution_options={WRITE: True})


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def upgrade_schema() -> None:
    """Bring the database schema up to date (inside an app context)."""
    import flask_migrate

    flask_migrate.upgrade(directory=str(MIGRATIONS))
