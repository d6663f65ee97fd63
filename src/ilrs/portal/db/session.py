"""Engines and sessions: SQLite (WAL, foreign keys on) or PostgreSQL (psycopg 3) from one URL.

Writes take their locks up front. On SQLite a write transaction begins with ``BEGIN IMMEDIATE``: it waits for the
database's write lock (``busy_timeout``) instead of starting as a reader and failing with "database is locked" when
it tries to write after another writer committed. On PostgreSQL the use cases lock the rows they change
(``SELECT ... FOR UPDATE``). Reads run in autocommit mode and never wait for a writer.

The connection pool holds one connection per thread that may run a request (``threads``) plus a margin; the app
limits its worker threads to the same number (:mod:`ilrs.portal.main`), so a request never waits for a connection
that a thread cannot give back.

A pooled PostgreSQL connection is checked before use without a round trip (:func:`_alive_on_checkout`): the
server closes a connection it ends (restart, ``pg_terminate_backend``, idle timeout) with a message and an
end-of-file, so an idle connection whose socket has something to read is pinged and, if dead, replaced. SQLAlchemy's
``pool_pre_ping`` sent ``SELECT 1`` on every checkout: one round trip in three of a simple read request.
"""

from __future__ import annotations

import select

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from ilrs.errors import IlrsError

#: Seconds a request waits for a pooled connection before the portal answers 503 (never reached when the thread
#: limit and the pool agree; a guard against a pool shared with something else).
POOL_TIMEOUT_S = 10.0


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy's bare default would be psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def require_driver(url: str) -> None:
    """An :class:`IlrsError` naming the ``postgres`` extra when a PostgreSQL URL is given without psycopg (an
    optional dependency: SQLite, the default, needs nothing)."""
    if not url.startswith("postgresql+psycopg://"):
        return
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise IlrsError(
            "the database URL is PostgreSQL, but its driver (psycopg 3) is not installed",
            source="ILRS_DATABASE_URL",
            hint="install the postgres extra: pip install 'ilrs[postgres]' (or leave ILRS_DATABASE_URL unset for "
            "the SQLite default)",
        ) from exc


def make_engine(url: str, threads: int = 24) -> Engine:
    url = normalise_url(url)
    require_driver(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=threads,
            max_overflow=4,
            pool_timeout=POOL_TIMEOUT_S,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            # the driver's own BEGIN (deferred, emitted before the first write) is replaced by ours below
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, pool_size=threads, max_overflow=4, pool_timeout=POOL_TIMEOUT_S)
    event.listen(engine, "checkout", _alive_on_checkout)
    return engine


def _alive_on_checkout(dbapi_conn, _record, _proxy) -> None:
    """Refuse a pooled psycopg connection that the server has closed (the pool then opens a new one).

    An idle connection has nothing to read unless the server spoke first: a termination notice and end-of-file,
    or (rarely) an asynchronous notice. Only then is it pinged; a healthy idle connection costs one ``poll``.
    """
    if dbapi_conn.closed:
        raise DisconnectionError("the pooled connection is closed")
    poller = select.poll()
    poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    if not poller.poll(0):
        return
    try:
        dbapi_conn.execute("SELECT 1")
        if not dbapi_conn.autocommit:
            dbapi_conn.rollback()
    except Exception as exc:  # any failure means the connection is unusable; the pool replaces it
        raise DisconnectionError(f"the pooled connection is dead: {exc}") from exc


def session_factory(engine: Engine, autocommit: bool = False) -> sessionmaker[Session]:
    """Sessions for changes (one transaction each), or with ``autocommit`` for reads (no BEGIN/ROLLBACK)."""
    bind = engine.execution_options(isolation_level="AUTOCOMMIT") if autocommit else engine
    return sessionmaker(bind, expire_on_commit=False)
