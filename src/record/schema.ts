/**
 * The database layout. Timestamps are REAL unix seconds (UTC); "process" is
 * the actor's name ("_herder" for the run itself). The version lives in
 * PRAGMA user_version; a newer version than this file knows is refused.
 */
export const SCHEMA_VERSION = 7;

/** Each actor's config as herder understood it (JSON, actors.yaml's words, env values left out), per run. */
const ACTOR_CONFIG = `
CREATE TABLE IF NOT EXISTS actor_config (
  run_id  INTEGER NOT NULL,
  process TEXT NOT NULL,
  config  TEXT NOT NULL,
  PRIMARY KEY (run_id, process)
);`;

export const DDL = `
CREATE TABLE IF NOT EXISTS runs (
  id            INTEGER PRIMARY KEY,
  started_at    REAL NOT NULL,
  ended_at      REAL,
  config_path   TEXT NOT NULL,
  status        TEXT NOT NULL,          -- running | completed | stopped | failed | crashed
  max_runtime_s REAL,                   -- NULL = no limit
  pid           INTEGER NOT NULL,       -- herder's own pid
  pid_start     TEXT,                   -- its start time (kernel clock ticks), to tell pid reuse apart
  exit_code     INTEGER,
  end_reason    TEXT,
  http          TEXT                    -- the web dashboard's address (runtime.http), NULL when off
);
CREATE TABLE IF NOT EXISTS events (
  id      INTEGER PRIMARY KEY,
  run_id  INTEGER NOT NULL,
  ts      REAL NOT NULL,
  process TEXT NOT NULL,
  kind    TEXT NOT NULL,
  detail  TEXT NOT NULL DEFAULT '',
  data    TEXT                       -- JSON of the fields detail is rendered from (src/runtime/events.ts); NULL before schema 6
);
CREATE INDEX IF NOT EXISTS events_run_ts ON events(run_id, ts);
CREATE INDEX IF NOT EXISTS events_process ON events(process, run_id, ts);
CREATE TABLE IF NOT EXISTS process_errors (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL,
  ts         REAL NOT NULL,
  process    TEXT NOT NULL,
  error_type TEXT NOT NULL,
  message    TEXT NOT NULL DEFAULT '',
  context    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS errors_run_ts ON process_errors(run_id, ts);
CREATE INDEX IF NOT EXISTS errors_process ON process_errors(process, run_id, ts);
CREATE TABLE IF NOT EXISTS resource_usage (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL,
  ts          REAL NOT NULL,
  process     TEXT NOT NULL,
  pid         INTEGER,
  cpu_percent REAL,
  rss_mb      REAL,
  num_threads INTEGER,
  num_fds     INTEGER,
  health      REAL,
  heap_used_mb REAL,                    -- thread actors: V8 heap in use
  elu          REAL,                    -- thread actors: event-loop utilisation 0..1
  mem_percent  REAL,                    -- _system: memory in use, %
  available_mb REAL,                    -- _system: memory available
  load1        REAL,                    -- _system: 1-minute load average
  disk_free_mb REAL,                    -- _system: free space where the database lives
  heap_total_mb REAL                    -- thread actors: V8's heap size (they have no RSS of their own: rss_mb is NULL)
);
CREATE INDEX IF NOT EXISTS usage_process ON resource_usage(process, run_id, ts);
CREATE TABLE IF NOT EXISTS process_output (
  id      INTEGER PRIMARY KEY,
  run_id  INTEGER NOT NULL,
  ts      REAL NOT NULL,
  process TEXT NOT NULL,
  pid     INTEGER,
  stream  TEXT NOT NULL,               -- stdout | stderr
  line    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS output_process ON process_output(process, id);
CREATE INDEX IF NOT EXISTS output_run ON process_output(run_id, id);
CREATE TABLE IF NOT EXISTS process_state (
  run_id         INTEGER NOT NULL,
  process        TEXT NOT NULL,
  kind           TEXT NOT NULL,        -- process | thread | supervisor
  parent         TEXT NOT NULL,        -- the supervising supervisor's name
  state          TEXT NOT NULL,        -- idle | running | stopping | restarting | loop_wait | stopped | fatal
  pid            INTEGER,
  pid_start      TEXT,                 -- start time of pid, for crashed-run cleanup
  restarts       INTEGER NOT NULL DEFAULT 0,
  runs           INTEGER NOT NULL DEFAULT 0,
  successes      INTEGER NOT NULL DEFAULT 0,
  failures       INTEGER NOT NULL DEFAULT 0,
  last_exit_code INTEGER,
  last_exit_signal TEXT,
  last_start     REAL,
  last_exit      REAL,
  next_run_at    REAL,
  detail         TEXT NOT NULL DEFAULT '',
  error_patterns TEXT,                 -- JSON {pattern name: matches this run}, null without patterns
  PRIMARY KEY (run_id, process)
);
${ACTOR_CONFIG}
`;

/** Steps from each older version to the next, applied in order inside one transaction. */
export const MIGRATIONS: Readonly<Record<number, string>> = {
  // 1 -> 2: resource_usage gains the thread and machine columns.
  1: ['heap_used_mb', 'elu', 'mem_percent', 'available_mb', 'load1', 'disk_free_mb']
    .map((c) => `ALTER TABLE resource_usage ADD COLUMN ${c} REAL;`)
    .join('\n'),
  // 2 -> 3: process_state keeps the error-pattern counts, so status read from the file shows them.
  2: 'ALTER TABLE process_state ADD COLUMN error_patterns TEXT;',
  // 3 -> 4: what each actor's config was, for status NAME and the dashboard's scales.
  3: ACTOR_CONFIG,
  // 4 -> 5: a thread actor's heap size had been kept in rss_mb; it moves to a column of its own.
  4: `ALTER TABLE resource_usage ADD COLUMN heap_total_mb REAL;
    UPDATE resource_usage SET heap_total_mb = rss_mb, rss_mb = NULL
    WHERE EXISTS (SELECT 1 FROM process_state ps
                  WHERE ps.run_id = resource_usage.run_id AND ps.process = resource_usage.process AND ps.kind = 'thread');`,
  // 5 -> 6: an event keeps its fields as JSON beside the line rendered from them.
  5: 'ALTER TABLE events ADD COLUMN data TEXT;',
  // 6 -> 7: a run with the HTTP listener on keeps its address.
  6: 'ALTER TABLE runs ADD COLUMN http TEXT;',
};
