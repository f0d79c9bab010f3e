#!/usr/bin/env python3
"""python_backend.py: statelog's Python drop-in (statelog.StateBackend)
against a pure-Python sqlite3 implementation of the original backend's SQL,
in one run, with the original's call pattern (tools/workload/WORKLOAD.md):
per sheet, save after it started, record_execution, save after validation,
save after it completed; a retry in 1 of 7 sheets.  Both durable: statelog
at durability always, the baseline with synchronous=FULL and one
transaction per call (a new connection per call, as the original opens
one).  One job at a time, then 16 jobs on one event loop.  Also the cost of
one binding call (mark_sheet_status through the extension, durability none,
so without the fdatasync).  Medians of --runs runs.

    PYTHONPATH=build/tools/python python3 tools/bench/python_backend.py --sheets 100
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from datetime import datetime, timezone

import statelog
from statelog import _statelog

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT,
  status TEXT NOT NULL, total_sheets INTEGER NOT NULL, last_completed_sheet INTEGER DEFAULT 0,
  current_sheet INTEGER, config_hash TEXT, config_snapshot TEXT, config_path TEXT, pid INTEGER,
  error_message TEXT, total_retry_count INTEGER DEFAULT 0, rate_limit_waits INTEGER DEFAULT 0,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, started_at TEXT, completed_at TEXT);
CREATE TABLE IF NOT EXISTS sheets (job_id TEXT NOT NULL, sheet_num INTEGER NOT NULL,
  status TEXT NOT NULL, attempt_count INTEGER DEFAULT 0, exit_code INTEGER, error_message TEXT,
  error_category TEXT, validation_passed INTEGER, validation_details TEXT,
  completion_attempts INTEGER DEFAULT 0, passed_validations TEXT, failed_validations TEXT,
  last_pass_percentage REAL, execution_mode TEXT, outcome_data TEXT, confidence_score REAL,
  learned_patterns TEXT, similar_outcomes_count INTEGER DEFAULT 0,
  success_without_retry INTEGER DEFAULT 0, outcome_category TEXT, started_at TEXT,
  completed_at TEXT, execution_duration_seconds REAL, exit_signal INTEGER, exit_reason TEXT,
  PRIMARY KEY (job_id, sheet_num));
CREATE TABLE IF NOT EXISTS execution_history (id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL, sheet_num INTEGER NOT NULL, attempt_num INTEGER NOT NULL, prompt TEXT,
  output TEXT, exit_code INTEGER, duration_seconds REAL, executed_at TEXT NOT NULL);
"""

JOB_COLS = ("id, name, description, status, total_sheets, last_completed_sheet, current_sheet,"
            " config_hash, config_snapshot, config_path, pid, error_message, total_retry_count,"
            " rate_limit_waits, created_at, updated_at, started_at, completed_at")
SHEET_COLS = ("job_id, sheet_num, status, attempt_count, exit_code, error_message,"
              " error_category, validation_passed, validation_details, completion_attempts,"
              " passed_validations, failed_validations, last_pass_percentage, execution_mode,"
              " outcome_data, confidence_score, learned_patterns, similar_outcomes_count,"
              " success_without_retry, outcome_category, started_at, completed_at,"
              " execution_duration_seconds, exit_signal, exit_reason")


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def dumps(v):
    return None if v is None else json.dumps(v)


class PlainSQLite:
    """The original's SQL with the standard library's sqlite3: one
    connection per call, one transaction, synchronous=FULL; blocking work
    on the loop's executor, as aiosqlite runs it on a thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        with sqlite3.connect(path) as c:
            c.executescript(SCHEMA)

    def _connect(self):
        c = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        c.execute("PRAGMA synchronous=FULL")
        c.execute("PRAGMA foreign_keys=ON")
        return c

    def _save(self, st: dict) -> None:
        st["updated_at"] = now()
        c = self._connect()
        try:
            c.execute("BEGIN IMMEDIATE")
            c.execute(f"INSERT OR REPLACE INTO jobs ({JOB_COLS}) VALUES "
                      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                      (st["job_id"], st["job_name"], None, st["status"], st["total_sheets"],
                       st["last_completed_sheet"], st.get("current_sheet"), None,
                       dumps(st.get("config_snapshot")), None, st.get("pid"),
                       st.get("error_message"), st["total_retry_count"], 0, st["created_at"],
                       st["updated_at"], st.get("started_at"), st.get("completed_at")))
            for s in st["sheets"].values():
                c.execute(f"INSERT OR REPLACE INTO sheets ({SHEET_COLS}) VALUES "
                          "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                          (st["job_id"], s["sheet_num"], s["status"], s["attempt_count"],
                           s.get("exit_code"), s.get("error_message"), None,
                           s.get("validation_passed"), dumps(s.get("validation_details")), 0,
                           dumps(s.get("passed_validations", [])), dumps([]), None, None, None,
                           None, dumps([]), 0, 0, None, s.get("started_at"),
                           s.get("completed_at"), None, None, None))
            c.execute("COMMIT")
        finally:
            c.close()

    def _record(self, job_id, sheet, attempt, prompt, output, exit_code, duration) -> int:
        c = self._connect()
        try:
            cur = c.execute("INSERT INTO execution_history (job_id, sheet_num, attempt_num,"
                            " prompt, output, exit_code, duration_seconds, executed_at)"
                            " VALUES (?,?,?,?,?,?,?,?)",
                            (job_id, sheet, attempt, prompt, output, exit_code, duration, now()))
            return cur.lastrowid
        finally:
            c.close()

    async def save(self, st):
        await asyncio.get_running_loop().run_in_executor(None, self._save, st)

    async def record_execution(self, *a):
        return await asyncio.get_running_loop().run_in_executor(None, self._record, *a)

    async def close(self):
        pass


def new_job(job_id: str, sheets: int) -> dict:
    t = now()
    return {"job_id": job_id, "job_name": f"job {job_id}", "total_sheets": sheets,
            "created_at": t, "updated_at": t, "status": "running", "started_at": t,
            "last_completed_sheet": 0, "current_sheet": None, "total_retry_count": 0,
            "sheets": {}}


async def run_job(be, job_id: str, sheets: int) -> int:
    """The original's calls for one job; returns the number of calls."""
    st = new_job(job_id, sheets)
    calls = 0
    for n in range(1, sheets + 1):
        attempts = 2 if n % 7 == 3 else 1
        for a in range(1, attempts + 1):
            s = st["sheets"].setdefault(str(n), {"sheet_num": n, "attempt_count": 0})
            s.update(status="in_progress", started_at=now(), attempt_count=a)
            st["current_sheet"] = n
            await be.save(st)
            await be.record_execution(job_id, n, a, "prompt " * 40, "output " * 100,
                                      0 if a == attempts else 1, 12.5)
            s.update(validation_passed=a == attempts, validation_details=[{"passed": a == attempts}],
                     passed_validations=["check"] if a == attempts else [])
            await be.save(st)
            if a == attempts:
                s.update(status="completed", completed_at=now(), exit_code=0)
                st["last_completed_sheet"] = n
            else:
                s.update(status="pending", exit_code=1)
                st["total_retry_count"] += 1
            await be.save(st)
            calls += 4
    return calls


async def measure(make, jobs: int, sheets: int) -> float:
    be = make()
    t0 = time.perf_counter()
    counts = await asyncio.gather(*[run_job(be, f"j{i}", sheets) for i in range(jobs)])
    dt = time.perf_counter() - t0
    await be.close()
    return sum(counts) / dt


def binding_cost(base: str, calls: int) -> float:
    """p50 (microseconds) of one mark_sheet_status through the extension,
    durability none: the binding and the C call, without any fdatasync."""
    d = tempfile.mkdtemp(dir=base)
    b = _statelog.Backend(os.path.join(d, "b.log"), os.path.join(d, "b.db"), "none", "on_read")
    b.save(json.dumps(new_job("x", 3)))
    lat = []
    for i in range(calls):
        t0 = time.perf_counter_ns()
        b.mark_sheet_status("x", 1 + i % 3, "in_progress" if i % 2 == 0 else "completed", None)
        lat.append((time.perf_counter_ns() - t0) / 1000)
    b.close()
    shutil.rmtree(d)
    return statistics.median(lat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sheets", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--concurrent", type=int, default=16)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="statelog-pybench-", dir=args.dir)
    try:
        print(f"python {'.'.join(map(str, __import__('sys').version_info[:3]))}, "
              f"statelog {statelog.version()}, {args.sheets} sheets per job, "
              f"medians of {args.runs} runs")
        for jobs in (1, args.concurrent):
            ours, theirs = [], []
            for r in range(args.runs):
                d = tempfile.mkdtemp(dir=base)
                ours.append(asyncio.run(measure(
                    lambda: statelog.StateBackend(os.path.join(d, "s.db"), model=None),
                    jobs, args.sheets)))
                d = tempfile.mkdtemp(dir=base)
                theirs.append(asyncio.run(measure(
                    lambda: PlainSQLite(os.path.join(d, "o.db")), jobs, args.sheets)))
            a, b = statistics.median(ours), statistics.median(theirs)
            print(f"{jobs:3d} job(s) at once: statelog {a:9.0f} calls/s, plain sqlite3 "
                  f"{b:9.0f} calls/s, ratio {a / b:6.1f}x")
        print(f"binding: mark_sheet_status p50 {binding_cost(base, 20000):.1f} us "
              f"(durability none, no fdatasync; target < 50 us)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
