/**
 * herder's command line (the program; src/main.ts is the entry). The single place where an error becomes output:
 * a user error is one line per problem on stderr and exit 2; a bug is a
 * report with its stack and exit 1.
 */
import { isatty } from 'node:tty';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runHerder } from '../actors/run.ts';
import { hardLimitSupport } from '../config/launch.ts';
import { displayPath, loadConfig } from '../config/load.ts';
import { durationForms, formatMs, parseDuration } from '../runtime/duration.ts';
import { HerderError, isHerderError } from '../runtime/errors.ts';
import { allWorkers } from '../runtime/spec.ts';
import { version } from '../version.ts';
import { resolveDbPath } from './db-path.ts';

const out = (text: string) => process.stdout.write(text);
const warn = (line: string) => process.stderr.write(`${line}\n`);

/** --runtime: 90s, 2m, 6h, 1d, 1h30m, or a bare number of minutes (0 = no limit) -> ms. */
function runLength(value: string): number {
  const ms = parseDuration(value, 'm');
  if (ms === null) throw new InvalidArgumentError(`"${value}" is not a duration (${durationForms('m')}; 0 = no limit)`);
  return ms;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a whole number above 0`);
  return n;
}

interface RunFlags {
  config: string;
  /** ms, from runLength. */
  runtime?: number;
  test?: boolean;
  db?: string;
  echo?: boolean;
  http?: string;
}

async function run(flags: RunFlags): Promise<number> {
  const runtimeMs = flags.test === true ? 5 * 60_000 : flags.runtime;
  const { spec, notes } = loadConfig(flags.config, { runtimeMs, db: flags.db, http: flags.http });
  for (const n of notes) warn(n);
  // isatty, not process.stdout: touching process.stdout would make fd 1 a synchronous stream.
  const terminal = isatty(1);
  const echo = flags.echo ?? terminal;
  const result = await runHerder(spec, { echo, colour: terminal, warn });
  warn(`herder: run ${result.runId} ${result.status}: ${result.reason} (record: ${displayPath(spec.dbPath)})`);
  return result.exitCode;
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

function check(flags: { config: string }): number {
  const { spec, notes } = loadConfig(flags.config);
  const workers = allWorkers(spec.root);
  const loops = workers.filter((w) => w.loop !== null).length;
  const threads = workers.filter((w) => w.launch.type === 'thread').length;
  out(
    `${displayPath(spec.configPath)}: OK: ${plural(workers.length, 'actor')} (${plural(loops, 'loop job')}, ${plural(threads, 'thread actor')}), ` +
      `root ${spec.root.strategy}, ${spec.maxRuntimeMs === null ? 'no time limit' : `${formatMs(spec.maxRuntimeMs)} limit`}, ` +
      `record ${displayPath(spec.dbPath)}\n`,
  );
  for (const n of notes) out(`${n}\n`);
  const loopJobs = workers.filter((w) => w.loop !== null);
  if (loopJobs.length > 0) {
    const fresh = loopJobs.filter((w) => w.loop?.resume === false).map((w) => w.name);
    out(
      `loop schedules: a new run on ${displayPath(spec.dbPath)} resumes each loop job's next run from the last one ` +
        `(a run missed meanwhile happens at once, once)${fresh.length === 0 ? '' : `; resume: false starts ${fresh.join(', ')} at once`}\n`,
    );
  }
  const hard = hardLimitSupport();
  out(
    `kernel memory limits here (resource_limits.hard): prlimit ${hard.prlimit === null ? 'not installed' : 'available'}; ` +
      `cgroup v2 memory controller ${hard.cgroupV2Memory ? 'writable' : 'not available'}\n`,
  );
  return 0;
}

async function watch(dbPath: string): Promise<void> {
  if (!isatty(1)) {
    throw new HerderError(
      'HERDER_ERR_ARGS',
      'herder status --watch: needs a terminal (use status or status --json in scripts)',
    );
  }
  // ink draws only a final frame when it believes it runs in CI (CI=true); a terminal is interactive
  // whatever CI says. It reads the environment when it loads, hence before the import.
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  const [{ runDashboard }, { dashboardSource }] = await Promise.all([import('./dashboard.tsx'), import('./watch.ts')]);
  await runDashboard(dashboardSource(dbPath));
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('herder')
    .description('supervise long-running data jobs as Erlang-style actors')
    .version(version(), '-v, --version', 'print the version')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: out,
      // One line, shaped like herder's own: "herder: what is wrong (the fix)".
      outputError: (s, write) => write(`herder: ${s.replace(/^error: /, '').trim()} (see --help)\n`),
    });

  const configOption = () => new Option('-c, --config <path>', 'the actors file').default('actors.yaml');
  const dbOption = () => new Option('--db <path>', 'the database file (default: runtime.db in the config)');
  const runOption = () => new Option('--run <id>', 'a finished run instead of the latest').argParser(positiveInt);

  program
    .command('run', { isDefault: true })
    .description('run the actors in the config until the deadline (the default command)')
    .addOption(configOption())
    .addOption(
      new Option(
        '-r, --runtime <duration>',
        'stop after this long: 90s, 2m, 6h, 1d, 1h30m; a bare number is minutes (0 = no limit)',
      ).argParser(runLength),
    )
    .option('--test', 'a short test run: 5 minutes')
    .addOption(dbOption())
    .option('--echo', "print each actor's output, prefixed by its name (default when stdout is a terminal)")
    .option('--no-echo', 'do not print actor output')
    .option('--http <host:port>', 'serve the web dashboard, its API and /metrics here (port 0: any free port)')
    .argument('[command...]') // only to name a mistyped command; see the action
    .usage('[options]')
    .action(async (words: string[], flags: RunFlags) => {
      const [command, ...rest] = words;
      if (command !== undefined) {
        // What a PM2 or supervisorctl user types first: point at herder's way.
        const steer = ['start', 'stop', 'restart', 'pause', 'resume', 'reload'].includes(command);
        const list = ['list', 'ls', 'ps', 'show', 'monit'].includes(command);
        const end = ['kill', 'shutdown', 'exit', 'quit'].includes(command);
        const hint = steer
          ? `; to steer a live run: ctl ${[command, ...(rest.length > 0 || command === 'reload' ? rest : ['NAME|all'])].join(' ')}`
          : list
            ? '; to list the actors: status (or status --watch)'
            : end
              ? '; to stop the whole live run gracefully: ctl shutdown'
              : '';
        throw new HerderError(
          'HERDER_ERR_ARGS',
          `herder: unknown command "${command}"${hint} (commands: run, check, init, status, report, logs, events, ctl, dashboard; see --help)`,
        );
      }
      if (flags.test === true && flags.runtime !== undefined) {
        throw new HerderError('HERDER_ERR_ARGS', 'herder: --test and --runtime both set the run length; pass one');
      }
      setExit(await run(flags));
    });

  program
    .command('check')
    .description('validate the config without running it')
    .addOption(configOption())
    .action((flags: { config: string }) => setExit(check(flags)));

  program
    .command('init')
    .description('write a small commented actors.yaml here: one loop job and one service (never overwrites)')
    .addOption(configOption())
    .action(async (flags: { config: string }) => {
      const { initCommand } = await import('./init.ts');
      out(initCommand(flags.config));
      setExit(0);
    });

  program
    .command('status')
    .description('show the current or last run: one row per actor, or one actor in detail')
    .argument('[name]', 'one actor: state, counts, last exit and why, health, limits, last errors and output, config')
    .addOption(configOption())
    .addOption(dbOption())
    .option('--json', 'print the status as JSON (format herder.status/1; herder.actor/1 for one actor)')
    .addOption(runOption())
    .option('-w, --watch', 'a live dashboard, refreshed every second (keys: arrows, l, r, s, p, q)')
    .action(
      async (
        name: string | undefined,
        flags: { config: string; db?: string; json?: boolean; run?: number; watch?: boolean },
      ) => {
        if (flags.watch === true) {
          await watch(resolveDbPath(flags));
          setExit(0);
          return;
        }
        // Loaded on demand: `run` must not load SQLite into the main thread (the logger thread owns it).
        const { statusCommand } = await import('./status.ts');
        out(await statusCommand(resolveDbPath(flags), { json: flags.json === true, run: flags.run, name }));
        setExit(0);
      },
    );

  program
    .command('dashboard')
    .description('the dashboard (--watch) or a report (--report), as earlier versions named them')
    .option('-w, --watch', 'the live dashboard (same as status --watch)')
    .option('--report', 'write a report (same as report)')
    .option('-o, --output <file>', 'with --report: the file; .txt .md .html .json pick the format')
    .addOption(configOption())
    .addOption(dbOption())
    .action(async (flags: { config: string; db?: string; watch?: boolean; report?: boolean; output?: string }) => {
      if (flags.report === true) {
        const { reportCommand } = await import('./report.ts');
        const text = await reportCommand(resolveDbPath(flags), { output: flags.output });
        if (text !== null) out(text);
        else warn(`herder: report written to ${flags.output}`);
      } else {
        await watch(resolveDbPath(flags));
      }
      setExit(0);
    });

  program
    .command('report')
    .description('one run summed up: text, markdown, html (with charts) or json')
    .addOption(runOption())
    .option('--format <format>', 'text | markdown | html | json (default: from --output, else text)')
    .option('-o, --output <file>', 'write to a file; .txt .md .html .json pick the format')
    .addOption(configOption())
    .addOption(dbOption())
    .action(async (flags: { config: string; db?: string; run?: number; format?: string; output?: string }) => {
      const { reportCommand } = await import('./report.ts');
      const text = await reportCommand(resolveDbPath(flags), flags);
      if (text !== null) out(text);
      else warn(`herder: report written to ${flags.output}`);
      setExit(0);
    });

  program
    .command('logs')
    .description("captured output: one actor's, or all interleaved")
    .argument('[name]', 'the actor (default: all)')
    .option('-f, --follow', 'keep printing new lines of the live run')
    .addOption(new Option('-n, --lines <count>', 'how many of the newest lines').default(100).argParser(positiveInt))
    .addOption(new Option('--stream <stream>', 'only stdout or stderr').choices(['stdout', 'stderr']))
    .option('--since <duration>', 'only lines newer than this (90s, 10m, 2h, 1d)')
    .option('--grep <regex>', 'only lines matching this regular expression')
    .addOption(runOption())
    .addOption(configOption())
    .addOption(dbOption())
    .action(
      async (
        name: string | undefined,
        flags: {
          config: string;
          db?: string;
          follow?: boolean;
          lines: number;
          stream?: 'stdout' | 'stderr';
          since?: string;
          grep?: string;
          run?: number;
        },
      ) => {
        const { logsCommand } = await import('./logs.ts');
        await logsCommand(resolveDbPath(flags), name, { ...flags, follow: flags.follow === true }, out);
        setExit(0);
      },
    );

  program
    .command('events')
    .description('what happened: starts, exits, restarts, loop waits, health actions, commands (one actor or all)')
    .argument('[name]', 'the actor (default: all; _herder for the run itself)')
    .option('-f, --follow', 'keep printing new events of the live run')
    .addOption(new Option('-n, --lines <count>', 'how many of the newest events').default(50).argParser(positiveInt))
    .option('--kind <kind>', 'only events of this kind (start, exit, restart, loop_wait, health, giveup, …)')
    .option('--json', 'one JSON object per line: the event with its fields (format herder.event/1)')
    .addOption(runOption())
    .addOption(configOption())
    .addOption(dbOption())
    .action(
      async (
        name: string | undefined,
        flags: {
          config: string;
          db?: string;
          follow?: boolean;
          lines: number;
          kind?: string;
          run?: number;
          json?: boolean;
        },
      ) => {
        const { eventsCommand } = await import('./events.ts');
        await eventsCommand(resolveDbPath(flags), name, { ...flags, follow: flags.follow === true }, out);
        setExit(0);
      },
    );

  program
    .command('ctl')
    .description('steer the live run: status, reload, shutdown, or start | stop | restart | pause | resume an actor')
    .argument('<command>', 'status | reload | shutdown | start | stop | restart | pause | resume')
    .argument('[name]', 'the actor')
    .addOption(configOption())
    .option('--db <path>', 'the database file of the run (default: runtime.db in the config)')
    .action(async (command: string, name: string | undefined, flags: { config: string; db?: string }) => {
      const { ctlCommand } = await import('./ctl.ts');
      out(await ctlCommand(resolveDbPath(flags), command, name));
      setExit(0);
    });

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has printed its one-line message already
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isHerderError(e) && e.isUserError) {
      for (const line of e.lines) warn(line.startsWith('herder') || line.includes(': ') ? line : `herder: ${line}`);
      return e.exitCode;
    }
    const detail = e instanceof Error ? (e.stack ?? e.message) : String(e);
    warn(`herder: internal error (a bug; please report it with this output):\n${detail}`);
    return 1;
  }
}
