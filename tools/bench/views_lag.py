#!/usr/bin/env python3
"""views_lag.py: how stale the views are beside a writer (issue "views that
are never stale").  A writer process runs the backend API from 8 threads at
full durable rate (durability always, each thread a job: save after a sheet
started, record_execution, save after it completed), with live views (a
projector thread beside the writer) and, in the same run, without them (the
views caught up only at close).  A separate reader process polls the views
database with plain sqlite3 for statelog_meta.last_seq and notes when each
sequence number became visible; the writer notes when each append returned.
Prints the lag from an append's return to its visibility (p50, p99, max) and
the commit rates with and without live views.  Medians of --runs runs.

    PYTHONPATH=build/tools/python python3 tools/bench/views_lag.py --seconds 5
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time

from statelog import _statelog


def reader(db: str, stop, out) -> None:
    """Polls last_seq; sends [(seq, monotonic time first seen)]."""
    seen = []
    last = 0
    while not os.path.exists(db) and not stop.is_set():
        time.sleep(0.001)
    c = None
    while not stop.is_set():
        try:
            if c is None:
                c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            row = c.execute("SELECT value FROM statelog_meta WHERE key = 'last_seq'").fetchone()
        except sqlite3.Error:
            c = None
            time.sleep(0.001)
            continue
        now = time.monotonic()
        seq = int(row[0]) if row else 0
        if seq > last:
            seen.append((seq, now))
            last = seq
        time.sleep(0.0005)
    out.send(seen)


def writer(d: str, views: str, seconds: float, threads: int):
    be = _statelog.Backend(os.path.join(d, "w.log"), os.path.join(d, "w.db"), "always", views)
    acks = []                       # (last seq of the call, monotonic time)
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run(t: int) -> None:
        mine = []
        j = f"job{t}"
        st = {"job_id": j, "job_name": j, "total_sheets": 100000, "status": "running",
              "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
              "started_at": "2026-01-01T00:00:00Z", "sheets": {}}
        be.save(json.dumps(st))
        n = 1
        while time.monotonic() < stop:
            st["sheets"][str(n)] = {"status": "in_progress", "attempt_count": 1,
                                    "started_at": "2026-01-01T00:00:01Z"}
            st["current_sheet"] = n
            be.save(json.dumps(st))
            mine.append((be.last_seq(), time.monotonic()))
            be.record_execution(j, n, 1, "prompt", "output", 0, 1.0)
            mine.append((be.last_seq(), time.monotonic()))
            st["sheets"][str(n)].update(status="completed", completed_at="2026-01-01T00:00:02Z")
            st["last_completed_sheet"] = n
            be.save(json.dumps(st))
            mine.append((be.last_seq(), time.monotonic()))
            if len(st["sheets"]) > 20:
                del st["sheets"][str(n - 20)]
            n += 1
        with lock:
            acks.extend(mine)

    t0 = time.monotonic()
    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.monotonic() - t0
    commits = be.last_seq()
    be.close()
    return acks, commits / dt


def one_run(base: str, views: str, seconds: float, threads: int):
    d = tempfile.mkdtemp(dir=base)
    stop = mp.Event()
    a, b = mp.Pipe()
    r = mp.Process(target=reader, args=(os.path.join(d, "w.db"), stop, b))
    r.start()
    acks, rate = writer(d, views, seconds, threads)
    time.sleep(0.2)
    stop.set()
    seen = a.recv()
    r.join()
    lags = []
    if views == "live":
        # for each acknowledged call: the first sighting of a last_seq >= it
        seen_seqs = [s for s, _ in seen]
        import bisect
        for seq, t in acks:
            i = bisect.bisect_left(seen_seqs, seq)
            if i < len(seen):
                lags.append(max(0.0, seen[i][1] - t) * 1000)
    shutil.rmtree(d, ignore_errors=True)
    return rate, lags


def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))] if v else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="statelog-lag-", dir=args.dir)
    try:
        live_rates, plain_rates, p50s, p99s, maxs = [], [], [], [], []
        for _ in range(args.runs):
            rate, lags = one_run(base, "live", args.seconds, args.threads)
            live_rates.append(rate)
            p50s.append(q(lags, 0.5))
            p99s.append(q(lags, 0.99))
            maxs.append(max(lags) if lags else float("nan"))
            rate, _ = one_run(base, "on_read", args.seconds, args.threads)
            plain_rates.append(rate)
        lr, pr = statistics.median(live_rates), statistics.median(plain_rates)
        print(f"{args.threads} threads, durability always, {args.seconds:g} s per run, "
              f"medians of {args.runs} runs")
        print(f"lag from an append's return to its visibility in another process: "
              f"p50 {statistics.median(p50s):.1f} ms, p99 {statistics.median(p99s):.1f} ms, "
              f"max {statistics.median(maxs):.1f} ms (targets: p50 <= 20, p99 <= 100)")
        print(f"commit rate: live views {lr:.0f}/s, views caught up at close {pr:.0f}/s: "
              f"{lr / pr * 100:.0f}% (target >= 90%)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
