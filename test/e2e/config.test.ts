/**
 * Config validation, end to end: the real CLI on real actors.yaml files.
 *
 * The contract: `check` prints every problem, one per line on stderr, as
 *   actors.yaml: <actor>.<key>: <what is wrong> (<how to fix>)
 * and exits 2; `run` refuses to start with the same lines; YAML syntax errors
 * read `actors.yaml:LINE:COL: ...`. Never a stack trace. A valid config makes
 * `check` exit 0 with an OK summary (plus "recorded; enforced from ..." notes).
 *
 * Speed: each CLI call costs ~0.5 s of CPU, so the per-actor cases share one
 * `check` run (one actor per case, each `it` looks only at its actor's lines);
 * everything that can hide other problems (top-level, runtime, YAML, the file
 * itself) gets its own run. All suites run concurrently.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliResult, JOB_PY, project, query, ROOT, runCli, THREAD_JOB } from '../helpers/cli.ts';

type Files = Record<string, { text: string; mode?: number }>;

const made: string[] = [];

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A temp project with this actors.yaml (and optional extra files), removed after the suite. */
function proj(yaml: string, files: Files = {}): string {
  const dir = project(yaml);
  made.push(dir);
  for (const [name, f] of Object.entries(files)) {
    const p = path.join(dir, name);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, f.text);
    if (f.mode !== undefined) chmodSync(p, f.mode);
  }
  return dir;
}

function emptyDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herder-test-'));
  made.push(dir);
  return dir;
}

/** `herder check` (or other args) on a fresh project with this config. */
async function herder(yaml: string, args: readonly string[] = ['check']): Promise<CliResult & { dir: string }> {
  const dir = proj(yaml);
  return { ...(await runCli(args, dir)), dir };
}

/** Runs `f` once, on first use, and shares the result (safe under concurrent tests). */
function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= f();
    return p;
  };
}

function indent(text: string, by: number): string {
  const pad = ' '.repeat(by);
  return text
    .trim()
    .split('\n')
    .map((l) => `${pad}${l}`)
    .join('\n');
}

/** One actor named `a` with a real script, plus extra YAML lines. */
function oneActor(extra = ''): string {
  return `actors:\n  - name: a\n    script: ${JOB_PY}\n${extra === '' ? '' : `${indent(extra, 4)}\n`}`;
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** No stack frames, no "Error:"/"TypeError:" class dumps, no bug report. */
function expectNoCrash(r: CliResult): void {
  const all = `${r.stdout}\n${r.stderr}`;
  expect(all, 'stack frame in output').not.toMatch(/^\s+at /m);
  expect(all, 'error class dump in output').not.toMatch(/(^|\s)[A-Z]\w*Error:/m);
  expect(all, 'bug report in output').not.toContain('internal error');
}

/** A user error: exit 2, nothing on stdout, no crash; returns the stderr lines. */
function expectUserError(r: CliResult): string[] {
  expectNoCrash(r);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const out = lines(r.stderr);
  expect(out.length, 'at least one line on stderr').toBeGreaterThan(0);
  return out;
}

/** `actors.yaml: <where>: <what> (<fix>)` -> where, or null when the line is not in that form. */
function whereOf(line: string, file = 'actors.yaml'): string | null {
  if (!line.startsWith(`${file}: `)) return null;
  const rest = line.slice(file.length + 2);
  if (rest.startsWith('(top level): ')) return '(top level)';
  const i = rest.indexOf(': ');
  return i > 0 ? rest.slice(0, i) : null;
}

/** Every line follows `actors.yaml: <where>: <what> (<fix>)`. */
function expectProblemFormat(out: readonly string[], file = 'actors.yaml'): void {
  for (const l of out) {
    expect(whereOf(l, file), `not "${file}: <where>: ...": ${l}`).not.toBeNull();
    expect(l, 'ends with a "(how to fix)"').toMatch(/ \(.+\)$/);
  }
}

/** The line whose location is `where` (exact, or matching a RegExp); fails listing all lines when absent. */
function lineAt(out: readonly string[], where: string | RegExp, file = 'actors.yaml'): string {
  const found = out.find((l) => {
    const w = whereOf(l, file);
    return w !== null && (typeof where === 'string' ? w === where : where.test(w));
  });
  expect(found, `no line located at ${String(where)} in:\n${out.join('\n')}`).toBeDefined();
  return found ?? '';
}

/** The problem line for `where` contains every fragment (the bad value, the hint). */
function expectProblem(out: readonly string[], where: string | RegExp, ...fragments: string[]): string {
  const l = lineAt(out, where);
  for (const f of fragments) expect(l).toContain(f);
  return l;
}

/** The lines about one actor: located at `name` or `name.<key>...`. */
function linesOf(out: readonly string[], name: string): string[] {
  return out.filter((l) => {
    const w = whereOf(l);
    return w !== null && (w === name || w.startsWith(`${name}.`) || w.startsWith(`${name}[`));
  });
}

interface ActorCase {
  title: string;
  /** The actor's name; unique in the shared config. */
  name: string;
  /** YAML lines under `- name: <name>`. */
  body: string;
  /** The location after `actors.yaml: `, e.g. `a.restart_delay`. */
  where: string | RegExp;
  has: string[];
}

describe.concurrent('config validation', () => {
  describe('check: one problem per actor, one line naming the actor and key', () => {
    const cases: ActorCase[] = [
      {
        title: 'unknown actor key with a close match suggests it',
        name: 'unknown_close',
        body: `script: ${JOB_PY}\nrestrt: permanent`,
        where: 'unknown_close.restrt',
        has: ['unknown key', 'did you mean "restart"?'],
      },
      {
        title: 'unknown actor key without a close match lists the allowed keys',
        name: 'unknown_far',
        body: `script: ${JOB_PY}\nzzzzzz: 1`,
        where: 'unknown_far.zzzzzz',
        has: ['unknown key', 'allowed', 'script', 'restart', 'loop_interval', 'error_patterns'],
      },
      {
        title: 'unknown resource_limits key suggests a resource_limits key',
        name: 'limits_key',
        body: `script: ${JOB_PY}\nresource_limits: { max_memory: 100 }`,
        where: 'limits_key.resource_limits.max_memory',
        has: ['unknown key', 'did you mean "max_memory_mb"?'],
      },
      {
        title: 'wrong type: loop_interval "soon"',
        name: 'loop_type',
        body: `script: ${JOB_PY}\nrequires_loop: true\nloop_interval: soon`,
        where: 'loop_type.loop_interval',
        has: ['"soon"', 'a number'],
      },
      {
        title: 'wrong type: command given as a string',
        name: 'command_string',
        body: 'command: "ls -l"',
        where: 'command_string.command',
        has: ['"ls -l"', 'a list'],
      },
      {
        title: 'negative restart_delay',
        name: 'negative_delay',
        body: `script: ${JOB_PY}\nrestart_delay: -1`,
        where: 'negative_delay.restart_delay',
        has: ['-1', 'at least 0'],
      },
      {
        title: 'enum typo in restart lists the allowed values',
        name: 'restart_enum',
        body: `script: ${JOB_PY}\nrestart: perm`,
        where: 'restart_enum.restart',
        has: ['"perm"', 'permanent', 'transient', 'temporary'],
      },
      {
        title: 'enum typo in an error pattern action suggests the value',
        name: 'action_enum',
        body: `script: ${JOB_PY}\nerror_patterns:\n  - { pattern: boom, action: rstart }`,
        where: 'action_enum.error_patterns[0].action',
        has: ['"rstart"', 'did you mean "restart"?'],
      },
      {
        title: 'loop_interval without requires_loop',
        name: 'loop_no_flag',
        body: `script: ${JOB_PY}\nloop_interval: 5`,
        where: 'loop_no_flag.loop_interval',
        has: ['requires_loop', 'requires_loop: true'],
      },
      {
        title: 'max_restart_delay below restart_delay',
        name: 'delay_cap',
        body: `script: ${JOB_PY}\nrestart_delay: 10\nmax_restart_delay: 5`,
        where: 'delay_cap.max_restart_delay',
        has: ['5s is below restart_delay (10s)', 'at least restart_delay'],
      },
      {
        title: 'a duration with an unknown unit lists the accepted forms',
        name: 'bad_unit',
        body: `script: ${JOB_PY}\nrequires_loop: true\nloop_interval: 2x`,
        where: 'bad_unit.loop_interval',
        has: ['"2x" is not a duration', 'a number of seconds', '500ms', '90s', '2m', '6h', '1d', '1h30m'],
      },
      {
        title: 'a duration with its parts smallest first',
        name: 'bad_order',
        body: `script: ${JOB_PY}\nstall_timeout: 30m1h`,
        where: 'bad_order.stall_timeout',
        has: ['"30m1h" is not a duration', '1h30m'],
      },
      {
        title: 'a duration that is neither a number nor a string',
        name: 'bad_duration_type',
        body: `script: ${JOB_PY}\nreset_after: [60]`,
        where: 'bad_duration_type.reset_after',
        has: ['a list is not a duration', 'a number of seconds'],
      },
      {
        title: 'a zero run_timeout written with a unit',
        name: 'zero_timeout',
        body: `script: ${JOB_PY}\nrun_timeout: 0s`,
        where: 'zero_timeout.run_timeout',
        has: ['"0s" is too small', 'above 0'],
      },
      {
        title: 'max_restart_delay below restart_delay, both with units',
        name: 'delay_cap_units',
        body: `script: ${JOB_PY}\nrestart_delay: 2m\nmax_restart_delay: 90s`,
        where: 'delay_cap_units.max_restart_delay',
        has: ['1m30s is below restart_delay (2m00s)'],
      },
      {
        title: 'invalid regex in error_patterns shows the pattern',
        name: 'bad_regex',
        body: `script: ${JOB_PY}\nerror_patterns:\n  - pattern: "foo(["`,
        where: 'bad_regex.error_patterns[0].pattern',
        has: ['/foo([/', 'not a valid regular expression', 'fix the pattern'],
      },
      {
        title: 'health_threshold above 1',
        name: 'health_high',
        body: `script: ${JOB_PY}\nhealth_threshold: 1.5`,
        where: 'health_high.health_threshold',
        has: ['1.5', 'at most 1'],
      },
      {
        title: 'health_threshold below 0',
        name: 'health_low',
        body: `script: ${JOB_PY}\nhealth_threshold: -0.1`,
        where: 'health_low.health_threshold',
        has: ['-0.1', 'at least 0'],
      },
      {
        title: 'script file that does not exist',
        name: 'no_script',
        body: 'script: nope.py',
        where: 'no_script.script',
        has: ['nope.py', 'does not exist', 'relative to the config file'],
      },
      {
        title: 'module file that does not exist',
        name: 'no_module',
        body: 'module: nope.ts',
        where: 'no_module.module',
        has: ['nope.ts', 'does not exist', 'relative to the config file'],
      },
      {
        title: 'command not on PATH',
        name: 'no_command',
        body: 'command: [no-such-cmd-xyz, --flag]',
        where: 'no_command.command',
        has: ['"no-such-cmd-xyz"', 'PATH'],
      },
      {
        title: 'command path that is not executable says so and suggests chmod +x',
        name: 'cmd_not_exec',
        body: 'command: [./tool.sh]',
        where: 'cmd_not_exec.command',
        has: ['tool.sh', 'not executable', 'chmod +x'],
      },
      {
        title: 'script with no known interpreter that is not executable',
        name: 'script_not_exec',
        body: 'script: tool.bin',
        where: 'script_not_exec.script',
        has: ['tool.bin', 'not executable', 'chmod +x'],
      },
      {
        title: 'interpreter that is not installed',
        name: 'no_interp',
        body: `script: ${JOB_PY}\ninterpreter: no-such-python`,
        where: 'no_interp.interpreter',
        has: ['no-such-python', 'not installed', 'set interpreter:'],
      },
      {
        title: 'args on a command actor',
        name: 'args_on_command',
        body: 'command: [sh, -c, "true"]\nargs: [x]',
        where: 'args_on_command.args',
        has: ['only applies to script', 'command:'],
      },
      {
        title: 'cwd that is not a folder',
        name: 'bad_cwd',
        body: `script: ${JOB_PY}\ncwd: nowhere`,
        where: 'bad_cwd.cwd',
        has: ['nowhere', 'not a folder'],
      },
      {
        title: 'none of script / command / module',
        name: 'run_nothing',
        body: 'restart: permanent',
        where: /^run_nothing(\.\w+)?$/,
        has: ['exactly one', 'script', 'command', 'module'],
      },
      {
        title: 'two of script / command / module',
        name: 'run_two',
        body: `script: ${JOB_PY}\ncommand: [ls]`,
        where: /^run_two\.(script|command)$/,
        has: ['more than one', 'exactly one'],
      },
    ];
    const valid = `  - name: fine\n    script: ${JOB_PY}\n`;
    const notMapping = '  - just-a-string\n'; // actors[1]
    const twoKeys = `  - name: two_unknown\n${indent(`script: ${JOB_PY}\nrestrt: permanent\npriorty: 3`, 4)}\n`;
    const keyAndFile = `  - name: key_and_file\n${indent('script: nope.py\nrestart_delay: soon', 4)}\n`;
    const keyAndPattern = `  - name: key_and_pattern\n${indent(`script: ${JOB_PY}\nrequires_loop: maybe\nerror_patterns:\n  - { pattern: "([bad", action: alert }`, 4)}\n`;
    const yaml = `actors:\n${valid}${notMapping}${cases.map((c) => `  - name: ${c.name}\n${indent(c.body, 4)}\n`).join('')}${twoKeys}${keyAndFile}${keyAndPattern}`;
    const files: Files = {
      'tool.sh': { text: '#!/bin/sh\necho hi\n', mode: 0o644 },
      'tool.bin': { text: '#!/bin/sh\necho hi\n', mode: 0o644 },
    };
    const result = once(async () => {
      const r = await runCli(['check'], proj(yaml, files));
      return { r, out: expectUserError(r) };
    });

    it.each(cases)('$title', async ({ name, where, has }) => {
      const { out } = await result();
      const mine = linesOf(out, name);
      expectProblem(mine, where, ...has);
      expect(mine, 'exactly one line for this actor').toHaveLength(1);
      expectProblemFormat(mine);
    });

    it('an actor entry that is not a mapping', async () => {
      const { out } = await result();
      expectProblem(out, 'actors[1]', 'must be a mapping', 'name:');
    });

    it('a valid actor next to invalid ones gets no line', async () => {
      const { out } = await result();
      expect(linesOf(out, 'fine')).toEqual([]);
    });

    it('two unknown keys in one actor: two lines', async () => {
      const { out } = await result();
      const mine = linesOf(out, 'two_unknown');
      expectProblem(mine, 'two_unknown.restrt', 'did you mean "restart"?');
      expectProblem(mine, 'two_unknown.priorty', 'did you mean "priority"?');
      expect(mine).toHaveLength(2);
    });

    it('a bad value and a missing script in the same actor: both lines', async () => {
      const { out } = await result();
      const mine = linesOf(out, 'key_and_file');
      expectProblem(mine, 'key_and_file.restart_delay', '"soon"');
      expectProblem(mine, 'key_and_file.script', 'nope.py');
      expect(mine).toHaveLength(2);
    });

    it('a bad value and a bad pattern in the same actor: both lines', async () => {
      const { out } = await result();
      const mine = linesOf(out, 'key_and_pattern');
      expectProblem(mine, 'key_and_pattern.requires_loop', '"maybe"');
      expectProblem(mine, 'key_and_pattern.error_patterns[0].pattern', '/([bad/ is not a valid regular expression');
      expect(mine).toHaveLength(2);
    });

    it('every problem in the file is reported, one line each, and nothing else', async () => {
      const { r, out } = await result();
      expect(r.code).toBe(2);
      expectProblemFormat(out);
      // one per case, actors[1], two each for two_unknown, key_and_file and key_and_pattern
      expect(out, r.stderr).toHaveLength(cases.length + 7);
    });
  });

  describe('check: top level, runtime and root supervisor', () => {
    it('unknown top-level key suggests the close match', async () => {
      const out = expectUserError(await herder(`superviser: { strategy: one_for_one }\n${oneActor()}`));
      expect(out).toHaveLength(1);
      expectProblem(out, 'superviser', 'unknown key', 'did you mean "supervisor"?');
    });

    it('unknown runtime key suggests the runtime key (not a top-level one)', async () => {
      const out = expectUserError(await herder(`runtime:\n  max_runtime_minute: 5\n${oneActor()}`));
      expect(out).toHaveLength(1);
      expectProblem(out, 'runtime.max_runtime_minute', 'unknown key', 'did you mean "max_runtime_minutes"?');
    });

    it('enum typo in the root strategy suggests one_for_all', async () => {
      const out = expectUserError(await herder(`supervisor:\n  strategy: one_for_al\n${oneActor()}`));
      expect(out).toHaveLength(1);
      expectProblem(out, 'supervisor.strategy', '"one_for_al"', 'did you mean "one_for_all"?');
    });

    it('empty actors list', async () => {
      const out = expectUserError(await herder('actors: []\n'));
      expect(out).toHaveLength(1);
      expectProblem(out, 'actors', 'at least one actor');
    });

    it('missing actors key says a list of actors is needed', async () => {
      const out = expectUserError(await herder('runtime: { db: x.db }\n'));
      expect(out).toHaveLength(1);
      expectProblem(out, 'actors', 'is missing', 'list');
    });

    it('a runtime problem does not hide the actor problems', async () => {
      const out = expectUserError(await herder('runtime:\n  db: 5\nactors:\n  - name: a\n    script: nope.py\n'));
      expectProblem(out, 'runtime.db', '5', 'a string');
      expectProblem(out, 'a.script', 'nope.py');
      expect(out).toHaveLength(2);
    });
  });

  describe('check: nested supervisors report problems with the actor name', () => {
    const yaml = `actors:
  - name: top
    script: ${JOB_PY}
  - supervisor: grp1
    strategy: one_for_al
    actors:
      - name: in1
        script: ${JOB_PY}
  - supervisor: grp2
    actors:
      - name: in2
        script: ${JOB_PY}
        restart_delay: soon
  - supervisor: grp3
    actors: []
  - supervisor: grp4
    actors:
      - name: in4
        script: missing.py
      - supervisor: deeper
        actors:
          - name: deep
            command: [no-such-cmd-xyz]
`;
    const result = once(async () => expectUserError(await herder(yaml)));

    it.each([
      { where: 'grp1.strategy', has: ['"one_for_al"', 'did you mean "one_for_all"?'] },
      { where: 'in2.restart_delay', has: ['"soon"', 'a number'] },
      { where: 'grp3.actors', has: ['at least one actor'] },
      { where: 'in4.script', has: ['missing.py', 'does not exist'] },
      { where: 'deep.command', has: ['"no-such-cmd-xyz"', 'PATH'] },
    ])('$where', async ({ where, has }) => {
      const out = await result();
      expectProblem(out, where, ...has);
    });

    it('all of them, one line each', async () => {
      const out = await result();
      expectProblemFormat(out);
      expect(out).toHaveLength(5);
    });

    it('a nested supervisor problem does not hide its children problems', async () => {
      const out = expectUserError(
        await herder(`actors:
  - supervisor: grp
    strategy: one_for_al
    actors:
      - name: inner
        script: missing.py
      - supervisor: deeper
        actors:
          - name: deep
            command: [no-such-cmd-xyz]
`),
      );
      expectProblem(out, 'grp.strategy', 'did you mean "one_for_all"?');
      expectProblem(out, 'inner.script', 'missing.py');
      expectProblem(out, 'deep.command', 'no-such-cmd-xyz');
      expect(out).toHaveLength(3);
    });
  });

  describe('check: duplicate names', () => {
    const yaml = `actors:
  - name: a
    script: ${JOB_PY}
  - name: a
    script: ${JOB_PY}
  - name: b
    script: ${JOB_PY}
  - supervisor: b
    actors:
      - name: b_child
        script: ${JOB_PY}
  - name: c
    script: ${JOB_PY}
  - supervisor: grp
    actors:
      - name: c
        script: ${JOB_PY}
`;
    const result = once(async () => expectUserError(await herder(yaml)));

    it.each([
      { title: 'two actors with the same name', name: 'a', first: 'actors[0]' },
      { title: 'an actor and a nested supervisor with the same name', name: 'b', first: 'actors[2]' },
      { title: 'a nested actor reusing a top-level actor name', name: 'c', first: 'actors[4]' },
    ])('$title', async ({ name, first }) => {
      const out = await result();
      const mine = linesOf(out, name);
      expect(mine, out.join('\n')).toHaveLength(1);
      expectProblem(mine, new RegExp(`^${name}(\\.name|\\.supervisor)?$`), 'duplicate name', first, 'its own name');
    });

    it('nothing else is reported', async () => {
      expect(await result()).toHaveLength(3);
    });
  });

  describe('check: malformed YAML gives line and column', () => {
    it('bad indentation', async () => {
      const out = expectUserError(await herder(`actors:\n  - name: a\n    script: ${JOB_PY}\n   restart: permanent\n`));
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(/^actors\.yaml:4:\d+: .+ \(fix the YAML syntax there\)$/);
    });

    it('unclosed bracket', async () => {
      const yaml = `actors:\n  - name: a\n    script: ${JOB_PY}\n    args: [--print, "2"\n  - name: b\n    script: ${JOB_PY}\n`;
      const out = expectUserError(await herder(yaml));
      expect(out[0]).toMatch(/^actors\.yaml:[45]:\d+: /);
      for (const l of out) expect(l).toMatch(/^actors\.yaml:\d+:\d+: /);
    });

    it('duplicate keys in one mapping', async () => {
      const out = expectUserError(await herder(oneActor('restart: permanent\nrestart: transient')));
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(/^actors\.yaml:5:\d+: .*(unique|duplicate)/i);
    });

    it('an alias to an anchor that does not exist is a user error naming it', async () => {
      const out = expectUserError(await herder('actors:\n  - *nope\n'));
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(/^actors\.yaml(:2:\d+)?: .*nope/);
    });
  });

  describe('check: the file itself', () => {
    it('missing config file: one line naming it and the fix', async () => {
      const out = expectUserError(await runCli(['check'], emptyDir()));
      expect(out).toEqual(['actors.yaml: no such config file (create it, or pass --config PATH)']);
    });

    it('missing --config file: names that path', async () => {
      const out = expectUserError(await runCli(['check', '--config', 'conf/other.yaml'], emptyDir()));
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(/^conf\/other\.yaml: no such config file \(.*--config.*\)$/);
    });

    it('--config pointing elsewhere works; paths are relative to that file', async () => {
      const other = proj('placeholder: true\n', {
        'sub/my.yaml': { text: 'actors:\n  - name: a\n    script: ../job.py\n' },
        'job.py': { text: 'print("hi")\n' },
      });
      const config = path.join(other, 'sub', 'my.yaml');
      const r = await runCli(['check', '--config', config], emptyDir());
      expectNoCrash(r);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`${config}: OK: 1 actor`);
      expect(r.stdout).toContain(`record ${path.join(other, 'sub', 'herder.db')}`);
    });

    it('--config with problems: the lines name that file', async () => {
      const dir = proj('placeholder: true\n', { 'my.yaml': { text: 'actors:\n  - name: a\n    script: nope.py\n' } });
      const out = expectUserError(await runCli(['check', '-c', 'my.yaml'], dir));
      expect(out).toHaveLength(1);
      expect(lineAt(out, 'a.script', 'my.yaml')).toContain('nope.py');
    });

    it('config path that is a folder: one line, exit 2', async () => {
      const dir = emptyDir();
      mkdirSync(path.join(dir, 'actors.yaml'));
      const out = expectUserError(await runCli(['check'], dir));
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(/^actors\.yaml: .+ \(.+\)$/);
    });

    it('file that is a YAML list instead of a mapping', async () => {
      const out = expectUserError(await herder(`- name: a\n  script: ${JOB_PY}\n`));
      expect(out).toHaveLength(1);
      expectProblem(out, '(top level)', 'must be a mapping', 'actors:');
    });
  });

  describe('check: a valid config', () => {
    it('exits 0 with an OK summary line', async () => {
      const yaml = `runtime: { max_runtime_minutes: 0, db: rec.db, alerts: { webhook: "http://127.0.0.1:9/hook" } }
supervisor: { strategy: rest_for_one }
actors:
  - name: a
    script: ${JOB_PY}
    requires_loop: true
    loop_interval: 5
    health_threshold: 0.5
    stall_timeout: 30
    error_patterns:
      - pattern: "Traceback"
    resource_limits: { max_memory_mb: 100 }
  - name: t
    module: ${THREAD_JOB}
  - supervisor: grp
    actors:
      - name: c
        command: [sh, -c, "true"]
`;
      const r = await herder(yaml);
      expectNoCrash(r);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const out = lines(r.stdout);
      expect(out[0]).toMatch(/^actors\.yaml: OK: 3 actors \(1 loop job, 1 thread actor\), root rest_for_one, /);
      expect(out[0]).toContain('no time limit');
      expect(out[0]).toContain('record rec.db');
      // Health settings are enforced, so no note; then how loop schedules carry over, and the hard limits here.
      expect(out).toHaveLength(3);
      expect(out[1]).toBe(
        "loop schedules: a new run on rec.db resumes each loop job's next run from the last one (a run missed meanwhile happens at once, once)",
      );
      expect(out[2]).toMatch(
        /^kernel memory limits here \(resource_limits\.hard\): prlimit (available|not installed); cgroup v2 memory controller (writable|not available)$/,
      );
      expect(existsSync(path.join(r.dir, 'rec.db')), 'check writes no database').toBe(false);
    });

    it('a minimal config: the OK line and the hard-limit line', async () => {
      const r = await herder(oneActor());
      expectNoCrash(r);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(lines(r.stdout)[0]).toBe(
        'actors.yaml: OK: 1 actor (0 loop jobs, 0 thread actors), root one_for_one, 6h00m limit, record herder.db',
      );
      expect(lines(r.stdout)).toHaveLength(2);
    });
  });

  describe('CLI argument errors: one error line, exit 2', () => {
    it.each([
      { args: ['--runtime', 'abc'], has: ['--runtime', 'abc', 'number of minutes'] },
      { args: ['--runtime', '-5'], has: ['--runtime', '-5', 'number of minutes'] },
      { args: ['--runtime', '2x'], has: ['--runtime', '"2x" is not a duration', 'number of minutes', '90s', '1h30m'] },
      { args: ['--bogus'], has: ['unknown option', '--bogus'] },
      { args: ['check', '--bogus'], has: ['unknown option', '--bogus'] },
      { args: ['restart', 'flaky'], has: ['unknown command "restart"', 'to steer a live run: ctl restart flaky'] },
      { args: ['stop'], has: ['unknown command "stop"', 'ctl stop NAME|all'] },
      { args: ['list'], has: ['unknown command "list"', 'to list the actors: status'] },
      { args: ['--test', '--runtime', '1'], has: ['--test and --runtime both set the run length; pass one'] },
    ])('herder $args', async ({ args, has }) => {
      const dir = proj(oneActor());
      const r = await runCli(args, dir);
      const out = expectUserError(r);
      const errors = out;
      expect(errors, r.stderr).toHaveLength(1);
      expect(errors[0]).toMatch(/^herder/);
      for (const f of has) expect(errors[0]).toContain(f);
      expect(existsSync(path.join(dir, 'herder.db')), 'nothing started').toBe(false);
    });
  });

  it('a reading command whose actors.yaml does not parse, with no herder.db beside it: one line naming the file and --db', async () => {
    const dir = emptyDir();
    writeFileSync(path.join(dir, 'actors.yaml'), 'runtime: { db: data/rec.db }\nactors: [oops\n');
    for (const args of [['status'], ['logs'], ['ctl', 'reload']]) {
      const r = await runCli(args, dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(
        /^actors\.yaml: .*line \d+.*; its runtime\.db cannot be read: fix the file, or pass --db F\n$/,
      );
    }
  });

  it('a reading command run from a folder with neither actors.yaml nor herder.db says so in one line', async () => {
    for (const args of [['status'], ['logs'], ['events'], ['report']]) {
      const r = await runCli(args, emptyDir());
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(
        'actors.yaml: not found, and no herder.db beside it: run this from the folder of your actors file, or pass --config F or --db F\n',
      );
    }
  });

  it('--version and -v print the version from package.json', async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = await runCli([flag], emptyDir());
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${pkg.version}\n`);
    }
  });

  describe('run with an invalid config', () => {
    const bad = `actors:
  - name: a
    script: nope.py
  - name: b
    script: ${JOB_PY}
    restart: perm
  - supervisor: grp
    actors:
      - name: inner
        command: [no-such-cmd-xyz]
`;

    it('prints the same lines as check, exits 2 and creates no database', async () => {
      const dir = proj(bad);
      const [checked, ran] = await Promise.all([
        runCli(['check'], dir),
        runCli(['run', '--no-echo', '--runtime', '0.05'], dir),
      ]);
      const checkLines = expectUserError(checked);
      const runLines = expectUserError(ran);
      expect(runLines).toEqual(checkLines);
      expect(runLines).toHaveLength(3);
      expectProblem(runLines, 'a.script', 'nope.py');
      expectProblem(runLines, 'b.restart', '"perm"');
      expectProblem(runLines, 'inner.command', 'no-such-cmd-xyz');
      expect(existsSync(path.join(dir, 'herder.db')), 'no database file').toBe(false);
    });

    it('the default command with --db: same lines, no database file', async () => {
      const dir = proj(bad);
      const out = expectUserError(await runCli(['--no-echo', '--db', 'custom.db'], dir));
      expect(out).toHaveLength(3);
      expect(existsSync(path.join(dir, 'custom.db'))).toBe(false);
      expect(existsSync(path.join(dir, 'herder.db'))).toBe(false);
    });

    it('a missing config file: the same one line, no database', async () => {
      const dir = emptyDir();
      const out = expectUserError(await runCli(['--no-echo'], dir));
      expect(out).toEqual(['actors.yaml: no such config file (create it, or pass --config PATH)']);
      expect(existsSync(path.join(dir, 'herder.db'))).toBe(false);
    });

    it('with a database from an earlier run: adds no run row', async () => {
      const dir = proj(`runtime: { shutdown_grace_seconds: 1 }\n${oneActor('args: [--forever]')}`);
      const first = await runCli(['--no-echo', '--runtime', '0.01'], dir);
      expect(first.code, first.stderr).toBe(0);
      const db = path.join(dir, 'herder.db');
      expect(Number(query(db, 'SELECT COUNT(*) AS n FROM runs')[0]?.n)).toBe(1);
      writeFileSync(path.join(dir, 'actors.yaml'), bad);
      const out = expectUserError(await runCli(['--no-echo', '--runtime', '0.01'], dir));
      expect(out).toHaveLength(3);
      expect(Number(query(db, 'SELECT COUNT(*) AS n FROM runs')[0]?.n)).toBe(1);
    });
  });
});

describe('check: notes', () => {
  it('points out limits that cannot apply to a thread actor', async () => {
    const dir = project(`
actors:
  - name: t
    module: ${THREAD_JOB}
    resource_limits: { max_memory_mb: 64, max_fds: 100, action: pause }
`);
    const r = await runCli(['check'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'actors.yaml: t.resource_limits: a thread actor has no descriptors of its own and cannot be paused; max_fds and action pause do not apply to it',
    );
  });
});

describe.concurrent('check: durations with units', () => {
  it('every duration key takes a number in its own unit or a string with units; the limit reads as a duration', async () => {
    const r = await herder(`runtime:
  max_runtime: 1h30m
  shutdown_grace_seconds: 2s
  sample_interval_seconds: 500ms
  alerts: { webhook: "http://127.0.0.1:9/hook", rate_limit_minutes: 30s }
  leak: { window_minutes: 1.5h }
supervisor: { period_seconds: 2m }
actors:
  - name: a
    script: ${JOB_PY}
    requires_loop: true
    loop_interval: 500ms
    run_timeout: 1m30s
    restart_delay: 250ms
    max_restart_delay: 1d
    reset_after: 90s
    shutdown_grace: 3
    stall_timeout: 6h
  - supervisor: grp
    period_seconds: 10s
    restart_delay: "1s"
    actors:
      - name: b
        script: ${JOB_PY}
`);
    expectNoCrash(r);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = lines(r.stdout);
    expect(out[0]).toBe(
      'actors.yaml: OK: 2 actors (1 loop job, 0 thread actors), root one_for_one, 1h30m limit, record herder.db',
    );
    expect(out).toHaveLength(3); // and the loop-schedule and hard-limit lines
  });

  it.each([
    { runtime: 'max_runtime: 90', limit: '1h30m limit' },
    { runtime: 'max_runtime_minutes: 2h', limit: '2h00m limit' },
  ])('$runtime: a bare number is minutes, as for --runtime ($limit)', async ({ runtime, limit }) => {
    const r = await herder(`runtime: { ${runtime} }\n${oneActor()}`);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)[0]).toContain(`, ${limit}, `);
  });

  it('max_runtime and max_runtime_minutes both set: one line naming both, even beside another runtime problem', async () => {
    const out = expectUserError(
      await herder(`runtime:\n  max_runtime: 6h\n  max_runtime_minutes: 360\n  db: 5\n${oneActor()}`),
    );
    expectProblem(out, 'runtime.max_runtime', 'max_runtime_minutes', 'keep one of them');
    expectProblem(out, 'runtime.db', 'a string');
    expect(out).toHaveLength(2);
    expectProblemFormat(out);
  });

  it('a bad duration in runtime names the key and lists the accepted forms in its unit', async () => {
    const out = expectUserError(
      await herder(
        `runtime:\n  sample_interval_seconds: 5 mins\n  alerts: { rate_limit_minutes: soon }\n  leak: { window_minutes: 0 }\n${oneActor()}`,
      ),
    );
    expectProblem(out, 'runtime.sample_interval_seconds', '"5 mins" is not a duration', 'a number of seconds', '500ms');
    expectProblem(out, 'runtime.alerts.rate_limit_minutes', '"soon" is not a duration', 'a number of minutes');
    expectProblem(out, 'runtime.leak.window_minutes', '0 is too small', 'above 0');
    expect(out).toHaveLength(3);
    expectProblemFormat(out);
  });
});

describe.concurrent('check: an alert that would go nowhere', () => {
  const note = (where: string, action: string) =>
    `actors.yaml: ${where}: ${action}, but runtime.alerts sets no command or webhook: the alert is only recorded (add runtime.alerts.command or .webhook)`;
  const actors = `actors:
  - name: feed
    script: ${JOB_PY}
    error_patterns:
      - { pattern: Traceback }
      - { pattern: quota, action: alert }
      - { pattern: JSONDecodeError, action: backoff }
  - supervisor: grp
    actors:
      - name: big
        script: ${JOB_PY}
        resource_limits: { max_memory_mb: 500, action: alert }
      - name: quiet
        script: ${JOB_PY}
        resource_limits: { max_memory_mb: 500 }
`;
  const expected = [
    note('feed.error_patterns[0]', 'action alert (the default)'),
    note('feed.error_patterns[1]', 'action alert'),
    note('big.resource_limits', 'action alert'),
  ];

  it('check: one warning line per alert route, exit 0; run prints the same lines', async () => {
    const dir = proj(`runtime: { shutdown_grace_seconds: 1 }\n${actors}`);
    const [checked, ran] = await Promise.all([
      runCli(['check'], dir),
      runCli(['run', '--no-echo', '--runtime', '1s'], dir),
    ]);
    expectNoCrash(checked);
    expect(checked.code, checked.stderr).toBe(0);
    const out = lines(checked.stdout);
    expect(out[0]).toMatch(/^actors\.yaml: OK: 3 actors/);
    expect(out.slice(1, -1)).toEqual(expected);
    expect(ran.code, ran.stderr).toBe(0);
    expect(lines(ran.stderr).filter((l) => l.includes('runtime.alerts'))).toEqual(expected);
  });

  it('runtime.alerts with only a rate limit: the same warnings', async () => {
    const r = await herder(`runtime:\n  alerts: { rate_limit_minutes: 10 }\n${actors}`);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout).slice(1, -1)).toEqual(expected);
  });

  // (a webhook alone: "a valid config" above)
  it('runtime.alerts.command set: no warning', async () => {
    const r = await herder(`runtime:\n  alerts: { command: [logger, -t, herder] }\n${actors}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('runtime.alerts');
    expect(lines(r.stdout)).toHaveLength(2);
  });
});

describe.concurrent('check: a value nested 1,000 levels deep', () => {
  const deepList = `${'['.repeat(1000)}${']'.repeat(1000)}`;
  const deepBlockMap = Array.from({ length: 1000 }, (_, i) => `${'  '.repeat(i + 1)}a:`).join('\n');

  it.each([
    { title: 'a flow list in args', yaml: oneActor(`args: ${deepList}`), at: /^actors\.yaml:4:72: / },
    { title: 'a block mapping at the top', yaml: `x:\n${deepBlockMap} 1\n${oneActor()}`, at: /^actors\.yaml:65:\d+: / },
  ])('$title: one line "nested too deeply" at its line and column, exit 2', async ({ yaml, at }) => {
    const out = expectUserError(await herder(yaml));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(at);
    expect(out[0]).toMatch(/: nested too deeply \(.*more than 64 levels.*\)$/);
  });
});
