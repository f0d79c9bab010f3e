"""statelog for Python: the original SQLiteStateBackend's interface over
statelog's event log.

    from statelog import StateBackend
    backend = StateBackend("run/state.db")      # the log is run/state.log
    await backend.save(state)
    state = await backend.load("job-1")

``StateBackend`` has every public method of the original backend, with the
same names, parameters, defaults, return types and exceptions, all
``async``.  ``db_path`` is the SQLite database the original kept: statelog's
views are there, in the original's schema, and hold every call's effect
when the call returns, so that dashboards and ``sqlite3`` read it as before.
The truth is the log beside it (``log_path``; by default the database path
with its suffix replaced by ``.log``): every change is an event there, and
the views can be thrown away and rebuilt from it (``statelog rebuild``).

Jobs go in and come out as the caller's model: the class given as
``model=``, else the original's ``CheckpointState`` when it can be imported,
else plain dicts in the ``model_dump(mode="json")`` form (the form
``statelog show --json`` prints).  Only the standard library is needed.

Blocking work runs on a pool of worker threads with the GIL released, so
the coroutines of several jobs saving at once share the log's fdatasyncs.

Several processes may open the same ``db_path`` at once (an orchestrator's
daemon and its CLI commands), as with the original: their writes take turns
(each waits up to ``timeout`` seconds for the others, as a SQLite busy
timeout), every write is checked against what the others wrote, and every
process reads the others' writes.

Beyond the original: ``load(job_id, at=...)`` (time travel), ``audit()``
(how a job evolved, event by event), ``statelog.Log`` (the events
themselves: append, read, follow), and ``statelog.rebuild()`` (the views
built anew from the log).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from . import _statelog

__all__ = ["StateBackend", "Log", "Error", "default_log_path", "import_original", "rebuild",
           "version"]

Error = _statelog.Error
version = _statelog.version

_MODEL_UNSET = object()


def default_log_path(db_path: str | os.PathLike[str]) -> Path:
    """Where the log of a database lives: ``state.db`` -> ``state.log``
    (a path without a suffix gets ``.log`` added)."""
    p = Path(db_path)
    return p.with_suffix(".log") if p.suffix else p.with_name(p.name + ".log")


def _original_model() -> Any:
    try:
        from marianne.core.checkpoint import CheckpointState  # type: ignore
    except Exception:  # not installed: plain dicts
        return None
    return CheckpointState


def _enum_value(v: Any) -> Any:
    return getattr(v, "value", v)


class StateBackend:
    """The original ``SQLiteStateBackend(db_path)``, on statelog.

    Keyword-only extras: ``model`` (the class jobs are returned as; ``None``
    for dicts), ``log_path`` (see :func:`default_log_path`), ``durability``
    (``"always"``, the default: a call returns once its events are on disk;
    ``"interval"``; ``"none"``), ``views`` (``"sync"``, the default: the
    database holds a call's effect when it returns; ``"live"``: within a few
    milliseconds; ``"on_read"``), ``workers`` (threads for blocking calls),
    ``timeout`` (seconds a call that writes waits for another process writing
    the same log, as ``sqlite3.connect(timeout=)``; default 5.0).

    Several processes (an orchestrator's daemon and its CLI commands) may
    open the same ``db_path`` at once: their writes take turns, each checked
    against what the others wrote, and each process's reads see the others'
    writes.
    """

    def __init__(self, db_path: str | os.PathLike[str], *, model: Any = _MODEL_UNSET,
                 log_path: str | os.PathLike[str] | None = None,
                 durability: str = "always", views: str = "sync",
                 workers: int = 16, timeout: float = 5.0) -> None:
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = Path(log_path) if log_path is not None else default_log_path(db_path)
        self._model = _original_model() if model is _MODEL_UNSET else model
        self._durability = durability
        self._views = views
        self._workers = workers
        if not timeout > 0:
            raise ValueError(f"timeout: expected seconds above 0, not {timeout!r}")
        self._busy_ms = max(1, min(int(timeout * 1000), 2**32 - 1))
        self._initialized = False
        self._init_lock = threading.Lock()
        self._be: Any = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    # ---- life -----------------------------------------------------------

    def _open(self) -> None:
        with self._init_lock:
            if self._be is None:
                self._be = _statelog.Backend(str(self.log_path), str(self.db_path),
                                             self._durability, self._views, True, False,
                                             self._busy_ms)
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self._workers, thread_name_prefix="statelog")
            self._initialized = True

    async def _ensure_initialized(self) -> None:
        """Opens the log and its views (creating both when missing); a
        second call, or one after ``_initialized`` was reset, is harmless."""
        if self._initialized and self._be is not None:
            return
        await asyncio.get_running_loop().run_in_executor(None, self._open)

    async def _call(self, fn: str, *args: Any, **kw: Any) -> Any:
        await self._ensure_initialized()
        be = self._be
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: getattr(be, fn)(*args, **kw))

    async def close(self) -> None:
        """Closes the log and the views (caught up with every event)."""
        be, pool = self._be, self._pool
        self._be, self._pool, self._initialized = None, None, False
        if pool is not None:
            pool.shutdown(wait=True)
        if be is not None:
            await asyncio.get_running_loop().run_in_executor(None, be.close)

    # ---- jobs as the caller's model -------------------------------------

    def _to_text(self, state: Any) -> str:
        if isinstance(state, dict):
            d = state
        elif hasattr(state, "model_dump"):
            d = state.model_dump(mode="json")
        else:
            raise TypeError(f"save: expected a model or a dict, not {type(state).__name__}")
        return json.dumps(d)

    def _from_text(self, text: str | None) -> Any:
        if text is None:
            return None
        d = json.loads(text)
        if self._model is None:
            return d
        return self._model.model_validate(d)

    # ---- the original's methods -----------------------------------------

    async def load(self, job_id: str, at: int | datetime | None = None) -> Any:
        """The job's state, or None.  A zombie (running, its process gone)
        is recovered first, as an event in the log, as the original does.

        With ``at`` (beyond the original), time travel: the job as it was
        after event ``at`` (a sequence number) or at the instant ``at`` (a
        datetime), None when it did not exist then; nothing is recovered
        and nothing appended::

            before = await backend.load("job-1", at=datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
        """
        if at is not None:
            return await self.load_at(job_id, at)
        return self._from_text(await self._call("load", job_id))

    async def save(self, state: Any) -> None:
        """Saves the whole state (one commit: all or nothing) and sets its
        ``updated_at`` to the commit's time, as the original does."""
        updated = await self._call("save", self._to_text(state))
        if isinstance(state, dict):
            state["updated_at"] = updated
        else:
            try:
                state.updated_at = datetime.fromisoformat(updated)
            except (AttributeError, ValueError, TypeError):
                pass

    async def delete(self, job_id: str) -> bool:
        return bool(await self._call("delete", job_id))

    async def list_jobs(self) -> list[Any]:
        return [self._from_text(t) for t in await self._call("list_jobs")]

    async def get_next_sheet(self, job_id: str) -> int | None:
        return await self._call("next_sheet", job_id)

    async def mark_sheet_status(self, job_id: str, sheet_num: int, status: Any,
                                error_message: str | None = None) -> None:
        try:
            await self._call("mark_sheet_status", job_id, int(sheet_num),
                             str(_enum_value(status)), error_message)
        except Error as e:
            if e.args and e.args[0] == _statelog.ENOTFOUND:
                raise ValueError(f"No state found for job {job_id}") from None
            raise

    async def record_execution(self, job_id: str, sheet_num: int, attempt_num: int,
                               prompt: str | None = None, output: str | None = None,
                               exit_code: int | None = None,
                               duration_seconds: float | None = None) -> int | None:
        return await self._call("record_execution", job_id, int(sheet_num), int(attempt_num),
                                prompt, output, exit_code,
                                None if duration_seconds is None else float(duration_seconds))

    async def get_execution_history(self, job_id: str, sheet_num: int | None = None,
                                    limit: int = 100) -> list[dict[str, Any]]:
        return await self._call("history", job_id, sheet_num, int(limit))

    async def get_execution_history_count(self, job_id: str) -> int:
        return await self._call("history_count", job_id)

    async def get_job_statistics(self, job_id: str) -> dict[str, Any]:
        return await self._call("statistics", job_id)

    async def query_jobs(self, status: Any = None, since: datetime | None = None,
                         limit: int = 50) -> list[dict[str, Any]]:
        return await self._call("query_jobs", None if not status else str(_enum_value(status)),
                                None if since is None else since.isoformat(), int(limit))

    # ---- beyond the original --------------------------------------------

    async def load_at(self, job_id: str, at: int | datetime) -> Any:
        """Time travel: the job as it was after event ``at`` (a sequence
        number) or at the instant ``at`` (a datetime); None when it did not
        exist then.  Nothing is appended."""
        if isinstance(at, datetime):
            return self._from_text(await self._call("load_at", job_id, 0, at.isoformat()))
        return self._from_text(await self._call("load_at", job_id, int(at)))

    async def sync_views(self) -> None:
        """Brings the views up to the log's end now."""
        await self._call("sync_views")

    async def audit(self, job_id: str, *, sheet: int | None = None,
                    from_seq: int | None = None, to_seq: int | None = None) -> list[dict[str, Any]]:
        """How the job evolved: every event of it in the log, in order, as
        ``statelog audit --json`` gives them: ``seq``, ``time``, ``type``,
        ``sheet`` (None: the whole job), ``refused`` (and ``reason``),
        ``body`` (the event), and ``changes``, each a dict ``{"row",
        "sheet", "column", "before", "after"}``.  ``sheet``, ``from_seq``
        and ``to_seq`` choose which events are listed (the values before
        and after are always the job's real ones)::

            for e in await backend.audit("job-1", sheet=2):
                print(e["seq"], e["type"], [(c["column"], c["after"]) for c in e["changes"]])

        Raises statelog.Error (ENOTFOUND) when the log holds no event of
        the job."""
        lines = await self._call("audit", job_id, int(sheet or 0), int(from_seq or 0),
                                 int(to_seq or 0))
        return [json.loads(line) for line in lines]


class Log:
    """The log itself: events as dicts, in the form ``statelog dump --json``
    prints and ``statelog append`` reads::

        log = statelog.Log("run/state.log")
        log.append({"job_id": "j1", "type": "sheet_started", "body": {"sheet_num": 1}})
        for ev in log.events(from_seq=1):
            print(ev["seq"], ev["time"], ev["job_id"], ev["type"], ev["body"])
        for ev in log.follow():          # then every new event, as it is committed
            ...

    ``append`` checks every event with the rules of the model against its
    job's latest state, as every door of statelog does, and appends all of
    them as one commit or none (statelog.Error naming the event, the field
    and the reason). Appending keeps the views beside the log
    (``db_path``, by default the log's path with ``.db`` for its suffix)
    current. Reading takes no lock and never waits for writers. Several
    processes may append to one log at once (``timeout``: seconds to wait
    for the others)."""

    def __init__(self, path: str | os.PathLike[str], *,
                 db_path: str | os.PathLike[str] | None = None, create: bool = False,
                 durability: str = "always", timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.db_path = Path(db_path) if db_path is not None else self.path.with_suffix(".db")
        if not timeout > 0:
            raise ValueError(f"timeout: expected seconds above 0, not {timeout!r}")
        self._create = create
        self._durability = durability
        self._busy_ms = max(1, min(int(timeout * 1000), 2**32 - 1))
        self._be: Any = None
        self._lock = threading.Lock()
        if not create:
            _statelog.Reader(str(self.path)).close()  # statelog.Error now if there is no log

    def _backend(self) -> Any:
        with self._lock:
            if self._be is None:
                self._be = _statelog.Backend(str(self.path), str(self.db_path), self._durability,
                                             "live", self._create, False, self._busy_ms)
            return self._be

    def append(self, *events: dict[str, Any]) -> tuple[int, int]:
        """Appends the events as one commit; returns the first and last
        sequence numbers given.  An event may carry ``"time"`` (ISO-8601)
        or ``"time_us"``; else the commit's time is given to it."""
        if not events:
            raise ValueError("append: no events")
        lines = [json.dumps(e) for e in events]
        return self._backend().append(lines)

    def _reader(self, from_seq: int | None, since: datetime | str | None) -> Any:
        r = _statelog.Reader(str(self.path))
        if since is not None:
            r.seek(time=since.isoformat() if isinstance(since, datetime) else str(since))
        elif from_seq:
            r.seek(seq=int(from_seq))
        return r

    def events(self, from_seq: int | None = None, *,
               since: datetime | str | None = None) -> Iterator[dict[str, Any]]:
        """Every event committed now, from sequence number ``from_seq`` or
        from the instant ``since`` on (default: the first), in order."""
        r = self._reader(from_seq, since)
        try:
            while (line := r.next()) is not None:
                yield json.loads(line)
        finally:
            r.close()

    def follow(self, from_seq: int | None = None, *, since: datetime | str | None = None,
               poll: float = 0.05) -> Iterator[dict[str, Any]]:
        """As ``events()``, then every event committed later, as it comes
        (looking every ``poll`` seconds when there is none); never ends by
        itself: stop iterating (``break``) to stop.  Without ``from_seq``
        and ``since``, only events committed from now on."""
        r = self._reader(from_seq, since)
        try:
            if from_seq is None and since is None:
                r.seek(seq=r.last_seq() + 1)
            while True:
                line = r.next()
                if line is None:
                    time.sleep(poll)
                    continue
                yield json.loads(line)
        finally:
            r.close()

    def last_seq(self) -> int:
        """The sequence number of the last event committed now (0: none)."""
        r = _statelog.Reader(str(self.path))
        try:
            return r.last_seq()
        finally:
            r.close()

    def close(self) -> None:
        """Closes the writer, if ``append`` opened one (the views are then
        caught up with every event)."""
        with self._lock:
            be, self._be = self._be, None
        if be is not None:
            be.close()

    def __enter__(self) -> Log:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def rebuild(db_path: str | os.PathLike[str],
            log_path: str | os.PathLike[str] | None = None) -> dict[str, int]:
    """Builds the views anew from the log and swaps them in for
    ``db_path`` (``statelog rebuild``): the events applied, the last
    sequence number, the events the rules refused and the ranges lost to a
    repair.  Use it when no process has the database open (a backend
    open on it keeps writing to the file it opened)::

        statelog.rebuild("run/state.db")
    """
    db = Path(db_path)
    log = Path(log_path) if log_path is not None else default_log_path(db)
    return _statelog.rebuild(str(log), str(db))


def import_original(db_path: str | os.PathLike[str],
                    log_path: str | os.PathLike[str] | None = None) -> None:
    """Moves a deployment of the original backend to statelog: its
    ``state.db`` becomes the log ``state.log`` (``statelog import``) and
    the views are written back in place of the database (the original file
    is kept as ``state.db.orig``), after which ``StateBackend(db_path)``
    takes over.  Needs the ``statelog`` program on PATH."""
    import shutil
    import subprocess
    db = Path(db_path)
    log = Path(log_path) if log_path is not None else default_log_path(db)
    orig = db.with_name(db.name + ".orig")
    if orig.exists():
        raise FileExistsError(f"{orig} exists: an import was done already")
    exe = shutil.which("statelog")
    if not exe:
        raise FileNotFoundError("the statelog program is not on PATH")
    os.replace(db, orig)
    try:
        subprocess.run([exe, "import", "--from-db", str(orig), "--log", str(log),
                        "--db", str(db)], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as e:
        os.replace(orig, db)
        raise Error(-1, e.stderr.strip() or e.stdout.strip()) from None
