"""tests/python: the Python package statelog (tools/python/statelog) as the
original backend's users call it: every method, the error cases, the views
in the database at db_path, many coroutines at once, a process killed in
the middle of saving.  Runs under any Python 3 with pytest; needs nothing
but the standard library and the package built by meson (PYTHONPATH is set
by tests/python/run.sh)."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import statelog


def run(coro):
    return asyncio.run(coro)


def job(job_id="job-1", total=5, **extra):
    d = {"job_id": job_id, "job_name": f"Job {job_id}", "total_sheets": total,
         "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00",
         "status": "pending"}
    d.update(extra)
    return d


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


def backend(db, **kw):
    return statelog.StateBackend(db, model=None, **kw)


# ---- the original's methods --------------------------------------------------

def test_save_and_load_round_trip(db):
    async def go():
        b = backend(db)
        st = job(config_snapshot={"retry": {"delays": [1.0, 2.5]}, "on": True},
                 config_path="/etc/job.yaml",
                 sheets={"1": {"sheet_num": 1, "status": "completed",
                               "started_at": "2026-01-01T00:00:01Z",
                               "completed_at": "2026-01-01T00:00:02Z",
                               "validation_details": [{"rule_type": "file", "passed": True}],
                               "passed_validations": ["a"], "confidence_score": 0.85,
                               "learned_patterns": ["p"], "exit_signal": 9,
                               "exit_reason": "timeout", "execution_duration_seconds": 45.2,
                               "outcome_data": {"k": "v"}}})
        await b.save(st)
        assert st["updated_at"] != "2026-01-01T00:00:00+00:00", "save sets updated_at"
        got = await b.load("job-1")
        assert got["job_name"] == "Job job-1"
        assert got["config_snapshot"] == {"retry": {"delays": [1.0, 2.5]}, "on": True}
        assert got["config_path"] == "/etc/job.yaml"
        s = got["sheets"]["1"]
        assert s["validation_details"] == [{"rule_type": "file", "passed": True}]
        assert s["confidence_score"] == 0.85 and s["exit_signal"] == 9
        assert s["exit_reason"] == "timeout" and s["execution_duration_seconds"] == 45.2
        assert s["outcome_data"] == {"k": "v"}
        assert s["failed_validations"] == [], "None reads back as [] (the original's `or []`)"
        assert got["updated_at"] == st["updated_at"]
        await b.close()
    run(go())


def test_json_values_only_python_writes_come_back_exactly(db):
    """NaN, the infinities, integers beyond 64 bits and lone surrogates are
    what json.dumps writes for the original's JSON columns: each is kept."""
    cfg = {"nan": float("nan"), "inf": float("inf"), "big": 2**70, "neg": -2**90,
           "s": "\udc80x", "nul": "a\x00b", "k\x00ey": [float("-inf")], "plain": 1.5}
    outcome = {"n": 10**30}

    async def go():
        b = backend(db)
        await b.save(job(config_snapshot=cfg, sheets={"1": {
            "sheet_num": 1, "status": "pending", "outcome_data": outcome}}))
        got = await b.load("job-1")
        c = got["config_snapshot"]
        assert c["nan"] != c["nan"]
        assert c["inf"] == float("inf") and c["k\x00ey"] == [float("-inf")]
        assert c["big"] == 2**70 and c["neg"] == -2**90
        assert c["s"] == "\udc80x" and c["nul"] == "a\x00b" and c["plain"] == 1.5
        assert list(c) == list(cfg), "the keys keep their order"
        assert got["sheets"]["1"]["outcome_data"] == outcome
        await b.close()
    run(go())
    # The views hold what the original's save() would have written.
    row = sqlite3.connect(db).execute("SELECT config_snapshot FROM jobs").fetchone()
    assert row[0] == json.dumps(cfg)


def test_load_delete_list_and_next_sheet(db):
    async def go():
        b = backend(db)
        assert await b.load("nope") is None
        assert await b.delete("nope") is False
        assert await b.get_next_sheet("new-job") == 1
        for i in range(3):
            await b.save(job(f"job-{i}", last_completed_sheet=i))
        ids = [j["job_id"] for j in await b.list_jobs()]
        assert ids == ["job-2", "job-1", "job-0"], "newest updated_at first"
        assert await b.get_next_sheet("job-2") == 3
        assert await b.delete("job-1") is True
        assert await b.load("job-1") is None
        assert len(await b.list_jobs()) == 2
        await b.save(job("job-1", job_name="Again"))
        again = await b.load("job-1")
        assert again["job_name"] == "Again" and again["sheets"] == {}
        await b.close()
    run(go())


def test_mark_sheet_status(db):
    async def go():
        b = backend(db)
        await b.save(job())
        await b.mark_sheet_status("job-1", 1, "in_progress")
        got = await b.load("job-1")
        assert got["status"] == "running" and got["current_sheet"] == 1
        assert got["sheets"]["1"]["status"] == "in_progress"
        await b.mark_sheet_status("job-1", 1, "completed")
        got = await b.load("job-1")
        assert got["last_completed_sheet"] == 1
        await b.mark_sheet_status("job-1", 2, "in_progress")
        await b.mark_sheet_status("job-1", 2, "failed", "Rate limit exceeded")
        got = await b.load("job-1")
        assert got["sheets"]["2"]["status"] == "failed"
        assert got["sheets"]["2"]["error_message"] == "Rate limit exceeded"
        await b.mark_sheet_status("job-1", 3, "failed")
        assert (await b.load("job-1"))["sheets"]["3"]["error_message"] == "Unknown error"
        with pytest.raises(ValueError, match="No state found"):
            await b.mark_sheet_status("nonexistent", 1, "completed")
        with pytest.raises(statelog.Error):
            await b.mark_sheet_status("job-1", 0, "completed")
        await b.close()
    run(go())


def test_execution_history_counts_and_statistics(db):
    async def go():
        b = backend(db)
        await b.save(job("stats", total=10, last_completed_sheet=7, total_retry_count=3))
        ids = []
        for i in range(1, 8):
            ids.append(await b.record_execution("stats", i, 1, prompt=f"p{i}", output="o",
                                                exit_code=0 if i != 3 else 1,
                                                duration_seconds=2.0))
        assert ids == sorted(ids) and ids[0] > 0
        hist = await b.get_execution_history("stats")
        assert [h["sheet_num"] for h in hist] == [7, 6, 5, 4, 3, 2, 1], "newest first"
        assert set(hist[0]) == {"id", "job_id", "sheet_num", "attempt_num", "prompt", "output",
                                "exit_code", "duration_seconds", "executed_at"}
        assert len(await b.get_execution_history("stats", sheet_num=3)) == 1
        assert len(await b.get_execution_history("stats", limit=2)) == 2
        assert await b.get_execution_history("stats", sheet_num=99) == []
        assert await b.get_execution_history_count("stats") == 7
        assert await b.get_execution_history_count("nope") == 0
        s = await b.get_job_statistics("stats")
        assert s == {"total_sheets": 10, "completed_sheets": 7, "success_rate": 70.0,
                     "total_retries": 3, "total_executions": 7, "avg_duration_seconds": 2.0,
                     "successful_executions": 6}
        assert await b.get_job_statistics("nonexistent") == {}
        await b.close()
    run(go())


def test_query_jobs(db):
    async def go():
        b = backend(db)
        for i, status in enumerate(["completed", "running", "failed"]):
            await b.save(job(f"q{i}", status=status,
                             started_at="2026-01-01T00:00:00+00:00" if status == "running" else None))
        assert len(await b.query_jobs()) == 3
        running = await b.query_jobs(status="running")
        assert [r["id"] for r in running] == ["q1"] and running[0]["status"] == "running"
        assert len(await b.query_jobs(since=datetime.now(timezone.utc) - timedelta(hours=1))) == 3
        assert await b.query_jobs(since=datetime.now(timezone.utc) + timedelta(hours=1)) == []
        assert len(await b.query_jobs(limit=2)) == 2
        await b.close()
    run(go())


# ---- the database at db_path -------------------------------------------------

def test_the_database_holds_every_call_when_it_returns(db):
    async def go():
        b = backend(db)
        await b._ensure_initialized()
        with sqlite3.connect(db) as c:
            assert c.execute("SELECT version FROM schema_version ORDER BY version DESC"
                             " LIMIT 1").fetchone()[0] == 4
        await b.save(job())
        await b.mark_sheet_status("job-1", 1, "in_progress")
        await b.mark_sheet_status("job-1", 1, "completed")
        await b.mark_sheet_status("job-1", 2, "in_progress")
        for i in range(3):
            await b.record_execution("job-1", 1, i + 1, exit_code=0)
        with sqlite3.connect(db) as c:
            assert c.execute("SELECT count(*) FROM sheets WHERE job_id = 'job-1'").fetchone()[0] == 2
            assert c.execute("SELECT count(*) FROM execution_history").fetchone()[0] == 3
            assert c.execute("SELECT status FROM jobs").fetchone()[0] == "running"
        assert await b.delete("job-1")
        with sqlite3.connect(db) as c:
            assert c.execute("SELECT count(*) FROM sheets").fetchone()[0] == 0
            assert c.execute("SELECT count(*) FROM execution_history").fetchone()[0] == 0
        # initialization twice is harmless
        b._initialized = False
        await b._ensure_initialized()
        await b.save(job("again"))
        assert await b.load("again") is not None
        await b.close()
        assert (db.parent / "state.log").is_dir(), "the log beside the database"
    run(go())


# ---- the caller's model ------------------------------------------------------

class Model:
    """A model as the original's pydantic CheckpointState is used: built by
    model_validate() from the JSON form, dumped by model_dump(mode="json")."""

    def __init__(self, d):
        self.d = d
        self.updated_at = None

    @classmethod
    def model_validate(cls, d):
        return cls(d)

    def model_dump(self, mode="python"):
        assert mode == "json"
        return self.d


def test_jobs_as_the_callers_model(db):
    async def go():
        b = statelog.StateBackend(db, model=Model)
        m = Model(job("m"))
        await b.save(m)
        assert isinstance(m.updated_at, datetime), "save sets updated_at on the model"
        got = await b.load("m")
        assert isinstance(got, Model) and got.d["job_id"] == "m"
        assert all(isinstance(j, Model) for j in await b.list_jobs())
        await b.close()
    run(go())


# ---- bad input ----------------------------------------------------------------

def test_what_the_model_refuses_is_refused(db):
    async def go():
        b = backend(db)
        with pytest.raises(ValueError, match="total_sheets"):
            await b.save(job(total=0))
        with pytest.raises(ValueError, match="confidence_score"):
            await b.save(job(sheets={"1": {"confidence_score": 1.5}}))
        with pytest.raises(ValueError, match="status"):
            await b.save(job(status="sleeping"))
        with pytest.raises(TypeError):
            await b.save(42)
        assert await b.list_jobs() == [], "nothing refused was kept"
        await b.close()
    run(go())


# ---- zombies, time travel -----------------------------------------------------

def test_zombie_recovered_on_load(db):
    async def go():
        p = subprocess.Popen([sys.executable, "-c", "pass"])
        p.wait()
        b = backend(db)
        await b.save(job("z", status="running", pid=p.pid,
                         started_at="2026-01-01T00:00:00+00:00"))
        got = await b.load("z")
        assert got["status"] == "paused" and got["pid"] is None
        assert "Recovered" in (got["error_message"] or "")
        await b.close()
    run(go())


def test_time_travel(db):
    async def go():
        b = backend(db)
        await b.save(job("t"))
        await b.mark_sheet_status("t", 1, "in_progress")
        then = datetime.now(timezone.utc)
        time.sleep(0.01)
        await b.mark_sheet_status("t", 1, "completed")
        assert (await b.load_at("t", 1))["status"] == "pending"
        assert (await b.load_at("t", then))["sheets"]["1"]["status"] == "in_progress"
        assert await b.load_at("nope", 1) is None
        await b.close()
    run(go())


# ---- many coroutines, a process killed -------------------------------------

def test_many_coroutines_at_once(db):
    async def go():
        b = backend(db)

        async def one(i):
            await b.save(job(f"c{i}", total=3))
            await b.mark_sheet_status(f"c{i}", 1, "in_progress")
            await b.record_execution(f"c{i}", 1, 1, exit_code=0)
            await b.mark_sheet_status(f"c{i}", 1, "completed")

        await asyncio.gather(*[one(i) for i in range(40)])
        jobs = await b.list_jobs()
        assert len(jobs) == 40
        assert all(j["last_completed_sheet"] == 1 for j in jobs)
        ids = [h["id"] for i in range(40) for h in await b.get_execution_history(f"c{i}")]
        assert sorted(ids) == list(range(1, 41)), "one id each, none twice"
        await b.close()
    run(go())


def test_a_process_killed_mid_save_loses_nothing_acknowledged(db, tmp_path):
    script = textwrap.dedent(f"""
        import asyncio, sys, statelog
        async def main():
            b = statelog.StateBackend({str(db)!r}, model=None)
            i = 0
            while True:
                await b.save({{"job_id": f"k{{i}}", "job_name": "K", "total_sheets": 2,
                              "created_at": "2026-01-01T00:00:00Z",
                              "updated_at": "2026-01-01T00:00:00Z"}})
                print(i, flush=True)
                i += 1
        asyncio.run(main())
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                         env=os.environ.copy())
    acked = -1
    deadline = time.monotonic() + 60
    while acked < 30 and time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        acked = int(line)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert acked >= 30, "the writer never got going"

    async def go():
        b = backend(db)
        for i in range(acked + 1):
            assert await b.load(f"k{i}") is not None, f"acknowledged k{i} lost"
        await b.close()
    run(go())


def test_import_original(tmp_path):
    """A database in the original's schema (written here with sqlite3, as the
    original's save() writes it) moved to statelog in place."""
    db = tmp_path / "state.db"
    with sqlite3.connect(db) as c:
        c.executescript("""
            CREATE TABLE schema_version (version INTEGER PRIMARY KEY);
            INSERT INTO schema_version VALUES (4);
            CREATE TABLE jobs (id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT,
                status TEXT NOT NULL, total_sheets INTEGER NOT NULL,
                last_completed_sheet INTEGER DEFAULT 0, current_sheet INTEGER,
                config_hash TEXT, config_snapshot TEXT, config_path TEXT, pid INTEGER,
                error_message TEXT, total_retry_count INTEGER DEFAULT 0,
                rate_limit_waits INTEGER DEFAULT 0, created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL, started_at TEXT, completed_at TEXT);
            CREATE TABLE sheets (job_id TEXT NOT NULL, sheet_num INTEGER NOT NULL,
                status TEXT NOT NULL, attempt_count INTEGER DEFAULT 0, exit_code INTEGER,
                error_message TEXT, error_category TEXT, validation_passed INTEGER,
                validation_details TEXT, completion_attempts INTEGER DEFAULT 0,
                passed_validations TEXT, failed_validations TEXT, last_pass_percentage REAL,
                execution_mode TEXT, outcome_data TEXT, confidence_score REAL,
                learned_patterns TEXT, similar_outcomes_count INTEGER DEFAULT 0,
                success_without_retry INTEGER DEFAULT 0, outcome_category TEXT,
                started_at TEXT, completed_at TEXT, execution_duration_seconds REAL,
                exit_signal INTEGER, exit_reason TEXT, PRIMARY KEY (job_id, sheet_num));
            CREATE TABLE execution_history (id INTEGER PRIMARY KEY AUTOINCREMENT,
                job_id TEXT NOT NULL, sheet_num INTEGER NOT NULL, attempt_num INTEGER NOT NULL,
                prompt TEXT, output TEXT, exit_code INTEGER, duration_seconds REAL,
                executed_at TEXT NOT NULL);
            INSERT INTO jobs (id, name, status, total_sheets, last_completed_sheet,
                created_at, updated_at, started_at)
                VALUES ('old', 'Old job', 'paused', 3, 1, '2026-01-01T00:00:00+00:00',
                        '2026-01-01T01:00:00+00:00', '2026-01-01T00:00:01+00:00');
            INSERT INTO sheets (job_id, sheet_num, status, passed_validations,
                failed_validations, learned_patterns, completed_at)
                VALUES ('old', 1, 'completed', '[]', '[]', '[]', '2026-01-01T00:30:00+00:00');
            INSERT INTO execution_history (job_id, sheet_num, attempt_num, exit_code,
                executed_at) VALUES ('old', 1, 1, 0, '2026-01-01T00:30:00+00:00');
        """)
    statelog.import_original(db)
    assert (tmp_path / "state.db.orig").exists() and (tmp_path / "state.log").is_dir()

    async def go():
        b = backend(db)
        got = await b.load("old")
        assert got["status"] == "paused" and got["last_completed_sheet"] == 1
        assert got["sheets"]["1"]["status"] == "completed"
        assert await b.get_execution_history_count("old") == 1
        await b.close()
    run(go())
    with pytest.raises(FileExistsError):
        statelog.import_original(db)


def test_fields_of_json_state_files_beyond_the_columns(tmp_path):
    """A JSON state file's fields the tables have no column for are kept by
    the import and given by load(); a save() leaves them as they are."""
    states = tmp_path / "states"
    states.mkdir()
    st = job("x", total=2, status="paused", instruments_used=["a", "b"], quota_waits=3,
             total_input_tokens=2**70,
             sheets={"1": {"sheet_num": 1, "status": "pending", "error_code": "E006",
                           "error_history": [{"error_code": "E001", "confidence": 0.5}]}})
    (states / "x.json").write_text(json.dumps(st))
    db = tmp_path / "state.db"
    subprocess.run(["statelog", "import", "--from-json", str(states), "--log",
                    str(tmp_path / "state.log"), "--db", str(db), "--quiet"], check=True)

    async def go():
        b = backend(db)
        got = await b.load("x")
        assert got["instruments_used"] == ["a", "b"] and got["quota_waits"] == 3
        assert got["total_input_tokens"] == 2**70
        s = got["sheets"]["1"]
        assert s["error_code"] == "E006"
        assert s["error_history"] == [{"error_code": "E001", "confidence": 0.5}]
        got["quota_waits"] = 9
        got["total_retry_count"] = 4
        await b.save(got)
        again = await b.load("x")
        assert again["total_retry_count"] == 4
        assert again["quota_waits"] == 3, "save() leaves them, as the original's does"
        await b.close()
    run(go())


def test_a_daemon_and_a_cli_process_both_write(db):
    """A daemon keeps the backend open; a CLI process opens the same path:
    each reads and writes, and each sees the other's writes."""
    script = textwrap.dedent(f"""
        import asyncio, sys, statelog
        async def main():
            b = statelog.StateBackend({str(db)!r}, model=None)
            await b.save({{"job_id": "d", "job_name": "D", "total_sheets": 2,
                          "created_at": "2026-01-01T00:00:00Z",
                          "updated_at": "2026-01-01T00:00:00Z"}})
            print("ready", flush=True)
            sys.stdin.readline()
            got = await b.load("mine")
            print("sees", got["job_name"] if got else None, flush=True)
            await b.mark_sheet_status("d", 1, "in_progress")
            print("marked", flush=True)
            sys.stdin.readline()
            got = await b.load("d")
            print("last", got["last_completed_sheet"], flush=True)
            await b.close()
        asyncio.run(main())
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"

        async def go():
            b = backend(db)
            got = await b.load("d")
            assert got is not None and got["job_name"] == "D"
            await b.save(job("mine"))
            assert [j["job_id"] for j in await b.list_jobs()] == ["mine", "d"]
            p.stdin.write("\n")
            p.stdin.flush()
            assert p.stdout.readline().strip() == f"sees {job('mine')['job_name']}"
            assert p.stdout.readline().strip() == "marked"
            assert (await b.load("d"))["status"] == "running", "reads what the daemon wrote"
            # Checked against the daemon's write: sheet 1 is in progress.
            await b.mark_sheet_status("d", 1, "completed")
            p.stdin.write("\n")
            p.stdin.flush()
            assert p.stdout.readline().strip() == "last 1", "the daemon sees the CLI's write"
            await b.close()
        run(go())
    finally:
        p.stdin.write("\n")
        p.stdin.flush()
        p.wait(timeout=30)
    assert p.returncode == 0


def test_processes_recording_at_once_get_unique_execution_ids(db):
    """Four processes record executions on one job at once: every call
    succeeds, every id is unique, the count is the sum."""
    async def setup():
        b = backend(db)
        await b.save(job("shared"))
        await b.close()
    run(setup())
    script = textwrap.dedent(f"""
        import asyncio, statelog
        async def main():
            b = statelog.StateBackend({str(db)!r}, model=None)
            ids = [await b.record_execution("shared", 1, 1, exit_code=0) for _ in range(40)]
            print(" ".join(map(str, ids)))
            await b.close()
        asyncio.run(main())
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    ids = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        ids += [int(x) for x in out.split()]
    assert len(ids) == 160 and len(set(ids)) == 160, "unique ids"

    async def check():
        b = backend(db)
        assert await b.get_execution_history_count("shared") == 160
        await b.close()
    run(check())


# ---- beyond the original: the log, the audit, time travel, rebuild ----------

def test_log_appends_reads_and_follows(tmp_path):
    path = tmp_path / "events.log"
    with pytest.raises(statelog.Error):
        statelog.Log(path)                      # no log there, and not asked to create one
    log = statelog.Log(path, create=True)
    first, last = log.append(
        {"job_id": "j1", "type": "job_created", "body": {"name": "J", "total_sheets": 2}},
        {"job_id": "j1", "type": "sheet_started", "body": {"sheet_num": 1}})
    assert (first, last) == (1, 2), "one commit of two events"
    # Every door runs the rules: a refused event appends nothing.
    with pytest.raises(statelog.Error, match="sheet 0 is below 1"):
        log.append({"job_id": "j1", "type": "sheet_completed", "body": {"sheet_num": 1}},
                   {"job_id": "j1", "type": "sheet_started", "body": {"sheet_num": 0}})
    with pytest.raises(ValueError, match="event 1"):
        log.append({"job_id": "j1", "type": "no_such_type", "body": {}})
    assert log.last_seq() == 2
    evs = list(log.events())
    assert [(e["seq"], e["job_id"], e["type"]) for e in evs] == \
        [(1, "j1", "job_created"), (2, "j1", "sheet_started")]
    assert evs[1]["body"] == {"sheet_num": 1} and evs[0]["time"].endswith("+00:00")
    assert [e["seq"] for e in log.events(from_seq=2)] == [2]
    # One commit: both events have its time.
    assert [e["seq"] for e in log.events(since=evs[1]["time"])] == [1, 2]
    assert list(log.events(since=datetime(2100, 1, 1, tzinfo=timezone.utc))) == []

    # follow(): what is committed later, as it comes, from another thread.
    got: list[dict] = []
    done = threading.Event()

    def follower():
        for e in statelog.Log(path).follow():
            got.append(e)
            if len(got) == 2:
                break
        done.set()
    t = threading.Thread(target=follower)
    t.start()
    time.sleep(0.2)
    log.append({"job_id": "j1", "type": "sheet_completed", "body": {"sheet_num": 1}})
    log.append({"job_id": "j1", "type": "sheet_started", "body": {"sheet_num": 2}})
    assert done.wait(10), "the follower saw both"
    t.join()
    assert [(e["seq"], e["type"]) for e in got] == [(3, "sheet_completed"), (4, "sheet_started")]
    log.close()
    # The views beside the log were kept current by the appends.
    with sqlite3.connect(tmp_path / "events.db") as c:
        assert c.execute("SELECT last_completed_sheet, current_sheet FROM jobs").fetchone() == (1, 2)


def test_audit_load_at_and_rebuild(db):
    async def go():
        b = backend(db)
        await b.save(job("a", total=3))
        await b.mark_sheet_status("a", 1, "in_progress")
        await b.mark_sheet_status("a", 1, "completed")
        await b.mark_sheet_status("a", 2, "failed", "boom")
        entries = await b.audit("a")
        types = [e["type"] for e in entries]
        assert types[0] == "job_created" and types[-1] == "sheet_failed"
        started = entries[types.index("sheet_started")]
        assert {"row": "job", "column": "status", "before": "pending", "after": "running"} \
            in started["changes"]
        assert all(e["sheet"] == 2 for e in await b.audit("a", sheet=2))
        seqs = [e["seq"] for e in entries]
        assert [e["seq"] for e in await b.audit("a", from_seq=seqs[1], to_seq=seqs[2])] == seqs[1:3]
        with pytest.raises(statelog.Error):
            await b.audit("nobody")
        # Time travel through load(at=): as it was after the sheet started.
        then = await b.load("a", at=started["seq"])
        assert then["status"] == "running" and then["last_completed_sheet"] in (None, 0)
        assert (await b.load("a"))["sheets"]["2"]["status"] == "failed"
        assert await b.load("a", at=1) is None or seqs[0] == 1
        await b.close()
    run(go())
    # The views thrown away and rebuilt from the log: the same answers.
    os.remove(db)
    stats = statelog.rebuild(db)
    assert stats["last_seq"] >= 4 and stats["events_applied"] >= 4
    assert stats["rejected_events"] == 0

    async def again():
        b = backend(db)
        got = await b.load("a")
        assert got["sheets"]["2"]["error_message"] == "boom"
        await b.close()
    run(again())
