/**
 * Turns an actor's script / command / module into what a host launches, and
 * checks that it can be found: a missing file, a command not on PATH or not
 * executable, a missing interpreter. Paths are relative to the config file's
 * folder.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ProcessLaunch, ThreadLaunch } from '../runtime/spec.ts';
import type { ActorConfig } from './schema.ts';

type Problem = (key: string, what: string, fix: string) => void;

/** Interpreters chosen by a script's extension; `interpreter:` overrides. */
const byExtension: Record<string, readonly string[]> = {
  '.py': ['python3'],
  '.sh': ['bash'],
  '.bash': ['bash'],
  '.js': [process.execPath],
  '.mjs': [process.execPath],
  '.cjs': [process.execPath],
  '.ts': [process.execPath, '--import', tsxLoaderUrl()],
  '.mts': [process.execPath, '--import', tsxLoaderUrl()],
  '.rb': ['ruby'],
  '.pl': ['perl'],
};

const moduleExtensions = ['.ts', '.mts', '.js', '.mjs'];

/** herder's own folder: the nearest package.json named "herder" above this module (source or build). */
function herderRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      if (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'herder') return dir;
    } catch {
      // no package.json here
    }
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** Where the job-side helpers live (health_channel.py, health-channel.ts). */
const SCRIPTS_DIR = path.join(herderRoot(), 'src', 'scripts');

/** The tsx loader as an absolute URL, so it resolves whatever the child's cwd. */
export function tsxLoaderUrl(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('tsx/package.json');
  return pathToFileURL(path.join(path.dirname(pkg), 'dist', 'loader.mjs')).href;
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds a program the way execvp would: a path as given, or a name on PATH. */
export function findProgram(program: string, baseDir: string): string | null {
  if (program.includes('/')) {
    const p = path.resolve(baseDir, program);
    return isExecutableFile(p) ? p : null;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const p = path.join(dir, program);
    if (isExecutableFile(p)) return p;
  }
  return null;
}

function exists(p: string): 'file' | 'dir' | null {
  try {
    const st = statSync(p);
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : null;
  } catch {
    return null;
  }
}

/** What this machine offers for kernel-enforced memory limits (reported by `check`). */
export function hardLimitSupport(): { prlimit: string | null; cgroupV2Memory: boolean } {
  let cgroupV2Memory = false;
  try {
    cgroupV2Memory = readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/).includes('memory');
    accessSync('/sys/fs/cgroup', constants.W_OK);
  } catch {
    cgroupV2Memory = false;
  }
  return { prlimit: findProgram('prlimit', '/'), cgroupV2Memory };
}

/**
 * resource_limits.hard for a process actor: the job runs under prlimit, which
 * sets RLIMIT_DATA (heap and private mappings) to max_memory_mb and then execs
 * it - same pid, same process group. Each process of the job has the limit.
 */
function withHardLimit(launch: ProcessLaunch, a: ActorConfig, problem: Problem): ProcessLaunch | null {
  const limits = a.resource_limits;
  if (limits?.hard !== true) return launch;
  if (limits.max_memory_mb === undefined) {
    problem('resource_limits.hard', 'needs max_memory_mb', 'set max_memory_mb, or remove hard');
    return null;
  }
  const prlimit = findProgram('prlimit', '/');
  if (prlimit === null) {
    problem(
      'resource_limits.hard',
      'needs prlimit (util-linux), which is not installed',
      'install util-linux, or remove hard',
    );
    return null;
  }
  const bytes = Math.floor(limits.max_memory_mb * 1024 * 1024);
  return { ...launch, argv: [prlimit, `--data=${bytes}`, '--', ...launch.argv] };
}

export function resolveLaunch(a: ActorConfig, baseDir: string, problem: Problem): ProcessLaunch | ThreadLaunch | null {
  const launch = resolveBase(a, baseDir, problem);
  return launch === null || launch.type === 'thread' ? launch : withHardLimit(launch, a, problem);
}

function resolveBase(a: ActorConfig, baseDir: string, problem: Problem): ProcessLaunch | ThreadLaunch | null {
  const given = [a.script, a.command, a.module].filter((x) => x !== undefined).length;
  if (given !== 1) {
    problem(
      given === 0 ? 'script' : 'command',
      given === 0 ? 'says nothing to run' : 'has more than one of script, command and module',
      'give exactly one of script (a file), command (an argv list) or module (a TypeScript module)',
    );
    return null;
  }
  if (a.script === undefined && (a.args !== undefined || a.interpreter !== undefined)) {
    const key = a.args !== undefined ? 'args' : 'interpreter';
    problem(key, 'only applies to script:', `move the arguments into command:, or remove ${key}`);
  }
  const cwd = a.cwd !== undefined ? path.resolve(baseDir, a.cwd) : baseDir;
  if (exists(cwd) !== 'dir') {
    problem('cwd', `${cwd} is not a folder`, 'create it or fix the path (relative to the config file)');
  }
  const env = { ...(a.env ?? {}) };

  if (a.module !== undefined) {
    const file = path.resolve(baseDir, a.module);
    if (exists(file) !== 'file') {
      problem(
        'module',
        `${a.module} does not exist (looked for ${file})`,
        'fix the path; it is relative to the config file',
      );
      return null;
    }
    if (!moduleExtensions.includes(path.extname(file))) {
      problem(
        'module',
        `${a.module} is not a .ts, .mts, .js or .mjs module`,
        'point module: at a module whose default export is run(ctx)',
      );
      return null;
    }
    return { type: 'thread', module: file, cwd, env, maxHeapMb: a.resource_limits?.max_memory_mb ?? null };
  }

  if (a.command !== undefined) {
    const [program, ...rest] = a.command;
    const found = program === undefined ? null : findProgram(program, baseDir);
    const asPath = program?.includes('/') ? path.resolve(baseDir, program) : null;
    if (asPath !== null && found === null && exists(asPath) === 'file') {
      problem('command', `${program} is not executable`, `chmod +x ${program}, or run it through an interpreter`);
      return null;
    }
    if (program === undefined || found === null) {
      problem(
        'command',
        `${JSON.stringify(program)} is not an executable file or a program on PATH`,
        'install it, fix the name, or give its path (relative to the config file)',
      );
      return null;
    }
    return { type: 'process', argv: [found, ...rest], cwd, env };
  }

  const script = a.script ?? '';
  const file = path.resolve(baseDir, script);
  if (exists(file) !== 'file') {
    problem(
      'script',
      `${script} does not exist (looked for ${file})`,
      'fix the path; it is relative to the config file',
    );
    return null;
  }
  const interpreter = a.interpreter !== undefined ? [a.interpreter] : byExtension[path.extname(file)];
  if (interpreter === undefined) {
    if (!isExecutableFile(file)) {
      problem('script', `${script} has no known interpreter and is not executable`, 'chmod +x it, or set interpreter:');
      return null;
    }
    return { type: 'process', argv: [file, ...(a.args ?? [])], cwd, env };
  }
  const [program, ...flags] = interpreter;
  const found = program === undefined ? null : findProgram(program, baseDir);
  if (found === null) {
    problem(
      'interpreter',
      `${program} is not installed or not on PATH`,
      `install ${program}, or set interpreter: to one that is`,
    );
    return null;
  }
  if (path.extname(file) === '.py') {
    if (env.PYTHONUNBUFFERED === undefined) env.PYTHONUNBUFFERED = '1';
    // `import health_channel` works in any Python actor.
    if (env.PYTHONPATH === undefined) {
      env.PYTHONPATH = [SCRIPTS_DIR, process.env.PYTHONPATH]
        .filter((p) => p !== undefined && p !== '')
        .join(path.delimiter);
    }
  }
  return { type: 'process', argv: [found, ...flags, file, ...(a.args ?? [])], cwd, env };
}
