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

One process writes a log at a time.  A StateBackend opened while another
process writes the log (an orchestrator's daemon, say) reads beside it:
load, list_jobs, the history, the statistics and query_jobs work (load
without zombie recovery: the writer is alive); save, delete,
mark_sheet_status and record_execution raise statelog.Error naming the
process that holds the log.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from . import _statelog

__all__ = ["StateBackend", "Error", "default_log_path", "import_original", "version"]

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

    async def load(self, job_id: str) -> Any:
        """The job's state, or None.  A zombie (running, its process gone)
        is recovered first, as an event in the log, as the original does."""
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
