-- views.sql: the SQLite database statelog projects a log into.
--
-- Views version 2 (SL_VIEWS_VERSION in projector/projector.h: bump both, and
-- the 'views_version' row at the end, whenever anything here changes; a
-- database of another version is rebuilt from the log when opened).
--
-- Part one is the database of the original Python backend at its schema
-- version 4 (projector/model/MODEL.md), column for column: the same tables,
-- column order, types, defaults, NOT NULL, keys, foreign keys with ON DELETE
-- CASCADE, the four indexes and the schema_version rows 1-4, so that the
-- original, or a dashboard written for it, reads a statelog database
-- unchanged.  Connections must set PRAGMA foreign_keys=ON.
--
-- Part two is statelog's own bookkeeping, in tables of its own.
--
-- The projector runs this file statement by statement in one transaction on
-- an empty database, binding two parameters:
--   :now     the creation time, ISO-8601 (the applied_at of the migrations)
--   :log_id  the id of the log the views are projected from (32 hex digits)
-- It is embedded into the program at build time (projector/meson.build).

-- ---- part one: the original's schema, version 4 -----------------------

CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    total_sheets INTEGER NOT NULL,
    last_completed_sheet INTEGER NOT NULL DEFAULT 0,
    current_sheet INTEGER,
    config_hash TEXT,
    config_snapshot TEXT,
    pid INTEGER,
    error_message TEXT,
    total_retry_count INTEGER NOT NULL DEFAULT 0,
    rate_limit_waits INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT,
    config_path TEXT
);

CREATE TABLE sheets (
    job_id TEXT NOT NULL,
    sheet_num INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempt_count INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    error_message TEXT,
    error_category TEXT,
    validation_passed INTEGER,
    validation_details TEXT,
    completion_attempts INTEGER NOT NULL DEFAULT 0,
    passed_validations TEXT,
    failed_validations TEXT,
    last_pass_percentage REAL,
    execution_mode TEXT,
    outcome_data TEXT,
    confidence_score REAL,
    learned_patterns TEXT,
    similar_outcomes_count INTEGER NOT NULL DEFAULT 0,
    success_without_retry INTEGER NOT NULL DEFAULT 0,
    outcome_category TEXT,
    started_at TEXT,
    completed_at TEXT,
    execution_duration_seconds REAL,
    exit_signal INTEGER,
    exit_reason TEXT,
    PRIMARY KEY (job_id, sheet_num),
    FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE
);

CREATE TABLE execution_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    sheet_num INTEGER NOT NULL,
    attempt_num INTEGER NOT NULL,
    prompt TEXT,
    output TEXT,
    exit_code INTEGER,
    duration_seconds REAL,
    executed_at TEXT NOT NULL,
    FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE
);

CREATE INDEX idx_jobs_status ON jobs(status);
CREATE INDEX idx_jobs_updated ON jobs(updated_at);
CREATE INDEX idx_sheets_status ON sheets(status);
CREATE INDEX idx_history_job_sheet ON execution_history(job_id, sheet_num);

-- v1 created the tables, v2 added jobs.config_path, v3 the sheets' exit
-- columns, v4 renamed first_attempt_success: all four are in the tables
-- above, so all four are recorded as applied, when the views were created.
INSERT INTO schema_version (version, applied_at) VALUES (1, :now);
INSERT INTO schema_version (version, applied_at) VALUES (2, :now);
INSERT INTO schema_version (version, applied_at) VALUES (3, :now);
INSERT INTO schema_version (version, applied_at) VALUES (4, :now);

-- ---- part two: statelog's bookkeeping ----------------------------------

-- One value per key, so that any version of statelog can read
-- 'views_version' whatever else has changed:
--   log_id           the log projected (32 hex digits); another log's
--                    database is refused, never mixed
--   views_version    the version of this file
--   last_seq         the last event applied (0: none), written in the same
--                    transaction as the rows it changed
--   last_commit_crc  the crc of the log commit holding last_seq: a database
--                    whose last event is not in the log with that crc is
--                    ahead of, or diverged from, the log and is rebuilt
--   created_at       when this database was created (ISO-8601)
--   foreign_writes   rows written by a program other than statelog (the
--                    triggers at the end count them): 0, or the views are
--                    re-derived from the log by the next statelog command
CREATE TABLE statelog_meta (
    key TEXT PRIMARY KEY,
    value
);

INSERT INTO statelog_meta (key, value) VALUES ('log_id', :log_id);
INSERT INTO statelog_meta (key, value) VALUES ('views_version', 2);
INSERT INTO statelog_meta (key, value) VALUES ('last_seq', 0);
INSERT INTO statelog_meta (key, value) VALUES ('last_commit_crc', 0);
INSERT INTO statelog_meta (key, value) VALUES ('created_at', :now);
INSERT INTO statelog_meta (key, value) VALUES ('foreign_writes', 0);

-- Every event of the log, applied or not, by sequence number: the audit's
-- timeline and "recent activity".  time is ISO-8601 like the other views;
-- sheet_num is NULL for an event about the whole job; type is the event's
-- name ("sheet_completed", "unknown" for a type this build does not know).
-- An event refused by the rules of the model is listed too: the log holds
-- it.  Rows of deleted jobs stay: the log keeps them auditable.
CREATE TABLE statelog_events (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    job_id TEXT,
    sheet_num INTEGER,
    type TEXT NOT NULL
);

CREATE INDEX idx_statelog_events_job ON statelog_events(job_id, seq);

-- The fields of a job's state that the original's tables have no column
-- for (instruments_used, quota_waits, ...; a sheet's error_history,
-- stdout_tail, ...), kept when an import of the original's JSON state files
-- found them: one JSON object per job (sheet_num 0) and per sheet that has
-- any.  `statelog show --json` and the Python package's load() give them
-- beside the columns.  Added in views version 2.
CREATE TABLE statelog_extra (
    job_id TEXT NOT NULL,
    sheet_num INTEGER NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (job_id, sheet_num)
) WITHOUT ROWID;

-- Writes by other programs.  statelog's own connections run with triggers
-- off (SQLITE_DBCONFIG_ENABLE_TRIGGER), so these fire only when another
-- program writes the views: the original backend pointed at them (it
-- writes when it recovers a zombie), a person with the sqlite3 shell.  They
-- count the rows so written in statelog_meta 'foreign_writes', one row read
-- for statelog to notice, at its next open or catch-up; the log stays the
-- truth, and the views are re-derived from it.  The write itself is not
-- refused: the other program goes on as it would.
CREATE TRIGGER statelog_foreign_jobs_insert AFTER INSERT ON jobs BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_jobs_update AFTER UPDATE ON jobs BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_jobs_delete AFTER DELETE ON jobs BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_sheets_insert AFTER INSERT ON sheets BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_sheets_update AFTER UPDATE ON sheets BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_sheets_delete AFTER DELETE ON sheets BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_execution_history_insert AFTER INSERT ON execution_history BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_execution_history_update AFTER UPDATE ON execution_history BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_execution_history_delete AFTER DELETE ON execution_history BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_statelog_events_insert AFTER INSERT ON statelog_events BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_statelog_events_update AFTER UPDATE ON statelog_events BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_statelog_events_delete AFTER DELETE ON statelog_events BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_statelog_extra_insert AFTER INSERT ON statelog_extra BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_statelog_extra_update AFTER UPDATE ON statelog_extra BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
CREATE TRIGGER statelog_foreign_statelog_extra_delete AFTER DELETE ON statelog_extra BEGIN
    UPDATE statelog_meta SET value = value + 1 WHERE key = 'foreign_writes';
END;
