"""The database handle: how repositories are run, durably and concurrently.

Repositories are synchronous functions ``fn(conn) -> T`` over a SQLAlchemy Core
``Connection``. ``Database`` runs them:

* **SQLite** — one writer thread owns the only write connection. Concurrent ``write``
  calls are gathered into one transaction (each job inside its own SAVEPOINT, so one
  bad job never spoils its neighbours) and committed once with ``synchronous=FULL``:
  every caller's future resolves only after that commit. This *group commit* is how a
  durable commit per request reaches thousands of requests per second on one file.
  Reads run on a small thread pool of WAL readers.
* **PostgreSQL** — asyncpg through SQLAlchemy's async engine; each job runs in its own
  transaction via ``run_sync``. PostgreSQL handles concurrent writers itself.

Callers never see the difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from wagate.errors import DatabaseUnavailable, WagateError
from wagate.store import faults

T = TypeVar("T")
ItemT = TypeVar("ItemT")
Job = Callable[[Connection], T]
#: ``combine(conn, items) -> results``, one result per item, in order; an exception instance among
#: the results is raised to that item's caller alone (see ``Database.write_merged``).
Combine = Callable[[Connection, list[ItemT]], list[Any]]

log = logging.getLogger("wagate.store")

MAX_BATCH = 512
#: After a write failed for want of the database, ``ping`` reports unready at least this long.
WRITE_FAILURE_HOLD_SECONDS = float(DatabaseUnavailable.retry_after_seconds)


def json_dumps(value: Any) -> str:
    """JSON columns through orjson: several times faster than the stdlib on the hot path."""
    return orjson.dumps(value).decode()


def sync_sqlite_url(url: str) -> str:
    """``sqlite+aiosqlite:///x.db`` → ``sqlite:///x.db``: SQLite runs on the stdlib driver in threads."""
    return sa.engine.make_url(url).set(drivername="sqlite").render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path | None:
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def make_sqlite_engine(url: str, synchronous: str = "FULL", begin: str = "BEGIN") -> Engine:
    """A stdlib-sqlite engine in WAL mode with foreign keys and real (SAVEPOINT-capable) transactions."""
    engine = sa.create_engine(
        sync_sqlite_url(url),
        json_serializer=json_dumps,
        json_deserializer=orjson.loads,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=8,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so SQLAlchemy's BEGIN/SAVEPOINT are honoured.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


@dataclass
class _Pending:
    job: Job[Any] | None
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    #: A mergeable job (``write_merged``): the function, its grouping key and this caller's item.
    combine: Combine[Any] | None = None
    key: Hashable = None
    item: Any = None


@dataclass
class _Unit:
    """What runs under one SAVEPOINT: one plain job, or every mergeable job of one (function, key)."""

    pendings: list[_Pending]

    def run(self, conn: Connection) -> list[tuple[bool, Any]]:
        first = self.pendings[0]
        if first.combine is None:
            assert first.job is not None
            return [(True, first.job(conn))]
        results = _combined(first.combine, conn, [p.item for p in self.pendings])
        return [(not isinstance(r, BaseException), r) for r in results]


def _units(batch: list[_Pending]) -> list[_Unit]:
    """Group a batch: mergeable jobs sharing (function, key) join the unit of the first of them."""
    units: list[_Unit] = []
    merged: dict[tuple[Any, Hashable], _Unit] = {}
    for pending in batch:
        if pending.combine is None:
            units.append(_Unit([pending]))
            continue
        group = (pending.combine, pending.key)
        unit = merged.get(group)
        if unit is None:
            unit = merged[group] = _Unit([pending])
            units.append(unit)
        else:
            unit.pendings.append(pending)
    return units


class _SqliteWriter:
    """The single writer thread with group commit."""

    def __init__(self, engine: Engine, on_commit: list[Callable[[], None]] | None = None) -> None:
        self._engine = engine
        self._on_commit = on_commit if on_commit is not None else []
        self._queue: queue.SimpleQueue[list[_Pending] | None] = queue.SimpleQueue()
        # Jobs submitted during one event-loop iteration, handed over together (see ``_enqueue``).
        self._buffers: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        self._thread = threading.Thread(target=self._run, name="wagate-sqlite-writer", daemon=True)
        self._thread.start()
        self.batches = 0
        self.jobs = 0

    def submit(self, job: Job[T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._enqueue(_Pending(job, future, loop))
        return future

    def submit_merged(self, combine: Combine[ItemT], key: Hashable, item: ItemT) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._enqueue(_Pending(None, future, loop, combine, key, item))
        return future

    def _enqueue(self, pending: _Pending) -> None:
        """Buffer jobs until the loop's current iteration ends, then wake the writer once for all.

        Waking the thread costs a syscall and a GIL hand-over; under load, dozens of requests
        submit in one iteration, and one wake-up serves them all. The buffer is only touched from
        its own loop's thread.
        """
        buffer = self._buffers.get(pending.loop)
        if buffer is None:
            buffer = self._buffers[pending.loop] = []
            pending.loop.call_soon(self._flush, pending.loop)
        buffer.append(pending)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        buffer = self._buffers.pop(loop, None)
        if buffer:
            self._queue.put(buffer)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        conn = self._engine.connect()
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = list(first)
                stop = False
                while len(batch) < MAX_BATCH:
                    try:
                        items = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if items is None:
                        stop = True
                        break
                    batch.extend(items)
                self._run_batch(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _run_batch(self, conn: Connection, batch: list[_Pending]) -> None:
        outcomes: dict[int, tuple[bool, Any]] = {}
        units = _units(batch)
        try:
            with conn.begin():
                if len(units) == 1 and len(units[0].pendings) == 1:
                    # Alone in the transaction: its error simply aborts it.
                    outcomes[id(batch[0])] = units[0].run(conn)[0]
                else:
                    # Driver-level savepoints: SQLAlchemy's begin_nested() cost more than the jobs themselves.
                    raw = conn.connection.driver_connection
                    assert raw is not None
                    for unit in units:
                        self._run_unit(raw, conn, unit, outcomes)
        except Exception as exc:
            # The commit itself failed (or the single job raised): nothing of the batch is durable.
            _resolve_all([(pending, False, exc) for pending in batch])
            return
        self.batches += 1
        self.jobs += len(batch)
        _notify(self._on_commit)
        _resolve_all([(p, *outcomes[id(p)]) for p in batch])

    def _run_unit(self, raw: Any, conn: Connection, unit: _Unit, outcomes: dict[int, tuple[bool, Any]]) -> None:
        """One unit under its own SAVEPOINT; a merged unit that fails is retried item by item, so
        one bad item fails alone and its neighbours still commit."""
        raw.execute("SAVEPOINT wagate_job")
        try:
            results = unit.run(conn)
        except Exception as exc:  # the job's own error goes back to its caller
            raw.execute("ROLLBACK TO SAVEPOINT wagate_job")
            raw.execute("RELEASE SAVEPOINT wagate_job")
            if len(unit.pendings) == 1:
                outcomes[id(unit.pendings[0])] = (False, exc)
                return
            for pending in unit.pendings:
                self._run_unit(raw, conn, _Unit([pending]), outcomes)
            return
        raw.execute("RELEASE SAVEPOINT wagate_job")
        for pending, outcome in zip(unit.pendings, results, strict=True):
            outcomes[id(pending)] = outcome


def _notify(listeners: list[Callable[[], None]]) -> None:
    for listener in listeners:
        try:
            listener()
        except Exception:  # a listener must never break a commit
            log.exception("commit listener failed")


def _resolve_all(results: list[tuple[_Pending, bool, Any]]) -> None:
    """Hand results back with one wake-up per event loop, not one per job (each is a syscall)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Pending, bool, Any]]] = {}
    for item in results:
        by_loop.setdefault(item[0].loop, []).append(item)

    def apply(items: list[tuple[_Pending, bool, Any]]) -> None:
        for pending, ok, value in items:
            if pending.future.done():
                continue
            if ok:
                pending.future.set_result(value)
            else:
                pending.future.set_exception(value)

    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # loop closed during shutdown
            loop.call_soon_threadsafe(apply, items)


class _TransactionMerger:
    """Merged writes on PostgreSQL: callers of one (function, key) share transactions.

    PostgreSQL has no writer thread to gather jobs, so this does the gathering in the event loop:
    items submitted while up to ``MAX_RUNNING`` transactions of their group are in flight wait
    and go together in the next one (a group commit of its own). Each transaction costs a pool
    checkout and a round trip per statement; sharing one among dozens of requests is what makes
    single-message requests cheap here too.
    """

    MAX_RUNNING = 4

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: dict[tuple[Any, Hashable], list[tuple[Any, asyncio.Future[Any]]]] = {}
        self._running: dict[tuple[Any, Hashable], int] = {}
        self._scheduled: set[tuple[Any, Hashable]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, combine: Combine[ItemT], key: Hashable, item: ItemT) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        group = (combine, key)
        self._pending.setdefault(group, []).append((item, future))
        self._schedule(group)
        return future

    async def close(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _schedule(self, group: tuple[Any, Hashable]) -> None:
        if group in self._scheduled or not self._pending.get(group):
            return
        if self._running.get(group, 0) >= self.MAX_RUNNING:
            return  # a finishing transaction schedules the next one
        self._scheduled.add(group)
        # Next loop iteration: everything submitted in this one goes together.
        asyncio.get_running_loop().call_soon(self._start, group)

    def _start(self, group: tuple[Any, Hashable]) -> None:
        self._scheduled.discard(group)
        batch = self._pending.pop(group, [])
        if not batch:
            return
        self._running[group] = self._running.get(group, 0) + 1
        task = asyncio.create_task(self._run(group, batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, group: tuple[Any, Hashable], batch: list[tuple[Any, asyncio.Future[Any]]]) -> None:
        combine = group[0]
        items = [item for item, _ in batch]
        try:
            try:
                results = await self._db.write(lambda conn: _combined(combine, conn, items))
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exc)
                    return
                # One bad item must not fail its neighbours: each alone, in its own transaction.
                for item, future in batch:
                    try:
                        _settle(future, await self._db.write(partial(_single, combine, item)))
                    except Exception as alone:
                        _settle(future, alone)
                return
            for (_item, future), result in zip(batch, results, strict=True):
                _settle(future, result)
        finally:
            self._running[group] -= 1
            self._schedule(group)


def _combined(combine: Combine[Any], conn: Connection, items: list[Any]) -> list[Any]:
    results = combine(conn, items)
    if len(results) != len(items):
        raise RuntimeError(f"{combine!r} returned {len(results)} results for {len(items)} items")
    return results


def _single(combine: Combine[Any], item: Any, conn: Connection) -> Any:
    result = combine(conn, [item])[0]
    if isinstance(result, BaseException):
        raise result  # rolls its transaction back
    return result


def _settle(future: asyncio.Future[Any], outcome: Any) -> None:
    """Hand an outcome to a caller that may have gone away (a cancelled request)."""
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class Database:
    """Runs repository functions; see the module docstring for the guarantees."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        self.url = url
        self.dialect = sa.engine.make_url(url).get_backend_name()
        self._sqlite_read: Engine | None = None
        self._sqlite_write: Engine | None = None
        self._writer: _SqliteWriter | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._async: AsyncEngine | None = None
        self._commit_listeners: list[Callable[[], None]] = []
        self._merger = _TransactionMerger(self)
        #: Set when a write failed because the database could not take it; cleared by the next
        #: successful write. ``/readyz`` is unready meanwhile.
        self.writes_failing = False
        self.write_failed_at = 0.0
        if self.is_sqlite:
            path = sqlite_path(url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._sqlite_write = make_sqlite_engine(url, sqlite_synchronous, "BEGIN IMMEDIATE")
            self._sqlite_read = make_sqlite_engine(url, sqlite_synchronous, "BEGIN")
            self._writer = _SqliteWriter(self._sqlite_write, self._commit_listeners)
            self._readers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="wagate-sqlite-read")
        else:
            self._async = create_async_engine(
                url,
                pool_size=20,
                max_overflow=10,
                pool_pre_ping=True,
                json_serializer=json_dumps,
                json_deserializer=orjson.loads,
            )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def async_engine(self) -> AsyncEngine:
        """The asyncpg engine (PostgreSQL only), e.g. for LISTEN/NOTIFY."""
        if self._async is None:
            raise RuntimeError("no async engine on SQLite")
        return self._async

    async def write(self, job: Job[T]) -> T:
        """Run ``job`` in a transaction and return its result once the commit is durable.

        A database that cannot take it raises ``DatabaseUnavailable`` (a value it cannot store:
        ``ValidationError``), never a driver error: see ``store.faults``.
        """
        try:
            if self._writer is not None:
                result = await self._writer.submit(job)
            else:
                assert self._async is not None
                async with self._async.begin() as conn:
                    result = await conn.run_sync(job)
                _notify(self._commit_listeners)
        except WagateError:
            raise
        except Exception as exc:
            meaning = self._fault(exc, writing=True)
            if meaning is None:
                raise
            raise meaning from exc
        self.writes_failing = False
        return result

    def _fault(self, exc: Exception, *, writing: bool) -> Exception | None:
        meaning = faults.translate(exc)
        if meaning is None:
            return None
        if writing and isinstance(meaning, DatabaseUnavailable):
            if not self.writes_failing:
                log.warning("database writes fail: %s", exc)
            self.writes_failing = True
            self.write_failed_at = time.monotonic()
        return meaning

    async def probe_write(self) -> bool:
        """A real write (a row inserted and deleted in one transaction): does the database take
        writes? ``/readyz`` asks while writes fail, so a node recovers without traffic."""
        name = "wagate-write-probe"

        def job(conn: Connection) -> None:
            from wagate.store.deployment_tables import deployment_settings

            now = datetime.now(UTC)
            conn.execute(sa.delete(deployment_settings).where(deployment_settings.c.name == name))
            conn.execute(sa.insert(deployment_settings).values(name=name, value="1", created_at=now))
            conn.execute(sa.delete(deployment_settings).where(deployment_settings.c.name == name))

        try:
            await self.write(job)
        except Exception:
            return False
        return True

    async def write_merged(self, combine: Combine[ItemT], item: ItemT, key: Hashable = None) -> Any:
        """Like ``write``, for jobs that are much cheaper done together than one by one.

        Concurrent calls with the same ``combine`` and ``key`` run as one ``combine(conn, items)``
        call in one transaction: on SQLite every such call that lands in one group commit (one
        SAVEPOINT, one bulk statement per table instead of one per caller), on PostgreSQL those
        gathered while earlier transactions of the group run (``_TransactionMerger``). This is how
        single-message requests reach batch speed.

        ``combine`` returns one result per item; an exception instance among them is raised to
        that caller only, and that item must have written nothing. If ``combine`` itself raises,
        each item is retried alone, so a bad item never takes its neighbours down.
        """
        try:
            if self._writer is not None:
                result = await self._writer.submit_merged(combine, key, item)
            else:
                result = await self._merger.submit(combine, key, item)
        except WagateError:
            raise
        except Exception as exc:
            meaning = self._fault(exc, writing=True)
            if meaning is None:
                raise
            raise meaning from exc
        self.writes_failing = False
        return result

    def add_commit_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every durable commit of ``write`` (from any thread; keep it tiny).

        Outbox consumers use it to wake up when new events may be visible instead of polling.
        """
        self._commit_listeners.append(listener)

    async def read(self, job: Job[T]) -> T:
        """Run ``job`` on a consistent snapshot; it must not write."""
        try:
            if self._sqlite_read is not None:
                engine = self._sqlite_read

                def run() -> T:
                    with engine.connect() as conn:
                        return job(conn)

                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._readers, run)
            assert self._async is not None
            async with self._async.connect() as conn:
                return await conn.run_sync(job)
        except WagateError:
            raise
        except Exception as exc:
            meaning = self._fault(exc, writing=False)
            if meaning is None:
                raise
            raise meaning from exc

    async def ping(self) -> bool:
        """The database answers and, if writes have been failing, takes a write again."""
        try:
            await self.read(lambda conn: conn.execute(sa.text("SELECT 1")).scalar())
        except Exception as exc:
            log.warning("database ping failed: %s", exc)
            return False
        if self.writes_failing:
            # Unready for a while after a failed write (a small probe may fit where real writes do
            # not, e.g. on a nearly full disk), then as long as a real write fails.
            if time.monotonic() - self.write_failed_at < WRITE_FAILURE_HOLD_SECONDS:
                return False
            return await self.probe_write()
        return True

    async def close(self) -> None:
        await self._merger.close()
        if self._writer is not None:
            await asyncio.to_thread(self._writer.close)
        if self._readers is not None:
            self._readers.shutdown(wait=True)
        for engine in (self._sqlite_write, self._sqlite_read):
            if engine is not None:
                engine.dispose()
        if self._async is not None:
            await self._async.dispose()
