/**
 * `herder init`: a small commented actors.yaml to start from, in the current folder (or at --config PATH). Its two
 * actors run standard tools (date, sh), so the file passes `herder check` and runs as it is, with nothing else to
 * write first; the comments show where a user's own script or module goes. An existing file is never overwritten.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { displayPath } from '../config/load.ts';
import { HerderError } from '../runtime/errors.ts';

const LOOP_JOB = 'clock';
const LOOP_INTERVAL_SECONDS = 10;
const SERVICE = 'ticker';

const TEMPLATE = `# herder's actors: \`herder check\` validates this file, \`herder run\` runs it.
# Paths in it (script, module, cwd, db) are relative to this file's folder.
runtime:
  max_runtime: 6h                 # the run stops itself, gracefully, after this; 0 = no limit; --runtime overrides
  db: herder.db                   # the record of every run: events, output, errors, CPU and memory samples

actors:
  # A loop job: it does its work and exits. Exit 0 means "done": it starts again loop_interval
  # after it ended (durations: 500ms, 90s, 2m, 6h, 1d, 1h30m). A failure is retried with backoff
  # instead, like a crash. When herder restarts, the schedule carries on from the record.
  - name: ${LOOP_JOB}
    command: [date, -u, "+%Y-%m-%d %H:%M:%S UTC"]
    # script: collect.py          # your own job instead: .py runs with python3, .sh with bash, .ts with node + tsx
    requires_loop: true
    loop_interval: ${LOOP_INTERVAL_SECONDS}s
    run_timeout: 1m               # a run longer than this is stopped and counts as a failure

  # A service: it runs until the run ends. When it exits, its supervisor restarts it after
  # restart_delay, doubled for each failure in a row.
  - name: ${SERVICE}
    command: [sh, -c, 'while :; do echo "tick $(date -u +%T)"; sleep 5; done']
    # module: worker.ts           # or a TypeScript module, run in a worker thread of its own
    restart_delay: 1s
    max_restarts: 10              # failures in a row before it is given up; 0 = no limit
`;

/** A path as a shell word: quoted only when it has to be. */
function shellWord(p: string): string {
  return /^[\w./@%+=:,-]+$/.test(p) ? p : `'${p.replaceAll("'", `'\\''`)}'`;
}

/** Writes the starter file and returns what to print: what was written, and what to type next. */
export function initCommand(configPath: string): string {
  const file = path.resolve(configPath);
  const shown = displayPath(file);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    // 'wx' fails when the file exists, so a file that appears meanwhile is not overwritten either.
    writeFileSync(file, TEMPLATE, { flag: 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new HerderError(
        'HERDER_ERR_ARGS',
        `herder init: ${shown} exists already, and init never overwrites a file (remove it, or pass --config NEW_PATH)`,
      );
    }
    throw new HerderError(
      'HERDER_ERR_ARGS',
      `herder init: cannot write ${shown}: ${code ?? String(e)} (pick a folder you can write to with --config PATH)`,
      { cause: e },
    );
  }
  const config = shown === 'actors.yaml' ? '' : ` --config ${shellWord(shown)}`;
  const next: readonly (readonly [string, string])[] = [
    [`herder run${config}`, 'runs them until the deadline or Ctrl-C'],
    [`herder status --watch${config}`, 'in another terminal: the live dashboard'],
    [`herder logs ${SERVICE}${config}`, 'what an actor printed'],
  ];
  const width = Math.max(...next.map(([command]) => command.length));
  return (
    `wrote ${shown}: one loop job (${LOOP_JOB}, every ${LOOP_INTERVAL_SECONDS} s) and one service (${SERVICE})\n` +
    'next:\n' +
    next.map(([command, what]) => `  ${command.padEnd(width)}   # ${what}\n`).join('')
  );
}
