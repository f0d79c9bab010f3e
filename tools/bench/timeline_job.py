#!/usr/bin/env python3
"""timeline_job.py: writes the events of one large job as JSON lines for
`statelog append`, for the timeline benchmark (tools/bench/timeline.sh) and
its test (tests/tools/timeline_test.sh).

The job runs its sheets one after the other: each sheet starts, records an
execution and completes; every third sheet fails once first (a transient
error) and is retried; a save after each sheet sets its outcome category and
re-stamps its start by a few microseconds, as an orchestrator's save does;
the job is paused and resumed once in the middle.  Saves are added or left
out so that the job has exactly --events events (at least 3 per sheet).
Times are made up, from --start-us (default 2026-11-26T00:00:00Z) on, so
the output is the same at every run.

usage: timeline_job.py [--job ID] [--sheets N] [--events N] [--seed N] [--start-us US]
"""
import argparse
import json
import random
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--job", default="big-job")
    ap.add_argument("--sheets", type=int, default=1000)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start-us", type=int, default=1795651200 * 1000000)
    o = ap.parse_args()
    rnd = random.Random(o.seed)
    fails = set(range(3, o.sheets + 1, 3))
    fixed = 2 + 2 + 3 * o.sheets + 3 * len(fails)     # created, pid, pause+resume
    saves = max(0, o.events - fixed)
    if fixed > o.events:                              # fewer failures to fit
        fails = set(sorted(fails)[: max(0, (o.events - 4 - 3 * o.sheets) // 3)])
        saves = max(0, o.events - (4 + 3 * o.sheets + 3 * len(fails)))
    save_every = o.sheets / saves if saves else 0
    t = o.start_us
    out = sys.stdout
    n = 0
    exec_id = 0

    def emit(kind, body, dt=1000):
        nonlocal t, n
        t += dt
        out.write(json.dumps({"job_id": o.job, "type": kind, "time_us": t, "body": body}) + "\n")
        n += 1

    emit("job_created", {"name": "Large job", "total_sheets": o.sheets, "config_hash": "f00d"})
    emit("pid_set", {"pid": 4242})
    saved = 0
    for s in range(1, o.sheets + 1):
        if s == o.sheets // 2:
            emit("job_paused", {"reason": "operator asked"}, 5000000)
            emit("job_resumed", {}, 600000000)
        attempts = 2 if s in fails else 1
        for a in range(1, attempts + 1):
            emit("sheet_started", {"sheet_num": s}, 2000000)
            start = t
            dur = rnd.uniform(10, 600)
            exec_id += 1
            ok = a == attempts
            emit("execution_recorded", {
                "execution_id": exec_id, "sheet_num": s, "attempt_num": a,
                "prompt": "Sheet %d of the large job: do the work and report." % s,
                "output": ("Done: all checks pass." if ok else "error: connection reset by peer"),
                "exit_code": 0 if ok else 1, "duration_seconds": round(dur, 3)}, int(dur * 1e6))
            if ok:
                emit("sheet_completed", {"sheet_num": s, "duration_seconds": round(dur, 3)})
            else:
                emit("sheet_failed", {"sheet_num": s, "message": "Transient backend error: connection reset",
                                      "category": "transient", "exit_code": 1, "exit_reason": "error",
                                      "duration_seconds": round(dur, 3)})
        while saves and saved < saves and saved < s / save_every:
            emit("sheet_fields_set", {"sheet_num": s, "outcome_category":
                                      "success_retry" if s in fails else "success_first_try",
                                      "started_at_us": start - 4})
            saved += 1
    sys.stderr.write("timeline_job.py: %d events, %d sheets\n" % (n, o.sheets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
