/**
 * actors.yaml -> a frozen RunSpec, or every problem found, one line each:
 *   actors.yaml: <actor>.<key>: <what is wrong> (<how to fix>)
 * YAML syntax errors carry the line and column instead of the actor. Here the
 * file is read and its YAML parsed; build.ts makes the spec of what it says.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { HerderError } from '../runtime/errors.ts';
import type { RunSpec } from '../runtime/spec.ts';
import { buildSpec, type Overrides } from './build.ts';
import { nestedTooDeeply } from './depth.ts';
import { Problems } from './problems.ts';

export { type Overrides, ROOT_NAME } from './build.ts';

export interface Loaded {
  readonly spec: RunSpec;
  /** Settings accepted that will not do all they seem to (a limit a thread cannot have, an alert going nowhere). */
  readonly notes: readonly string[];
}

export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** Reads and validates a config file; throws HerderError listing every problem. */
export function loadConfig(configPath: string, overrides: Overrides = {}): Loaded {
  const file = path.resolve(configPath);
  const shown = displayPath(file);
  if (!existsSync(file)) {
    throw new HerderError(
      'HERDER_ERR_CONFIG_NOT_FOUND',
      `${shown}: no such config file (create it, or pass --config PATH)`,
    );
  }
  if (!isFile(file)) {
    throw new HerderError(
      'HERDER_ERR_CONFIG_NOT_FOUND',
      `${shown}: is not a file (pass --config with the path of a YAML file)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new HerderError(
      'HERDER_ERR_CONFIG_NOT_FOUND',
      `${shown}: cannot be read (${(e as Error).message}); check its permissions`,
    );
  }
  const deep = nestedTooDeeply(text);
  if (deep !== null) {
    const line = `${shown}:${deep.line}:${deep.col}: nested too deeply (lists and mappings go more than ${deep.limit} levels down here; flatten this value)`;
    throw new HerderError('HERDER_ERR_CONFIG_YAML', line);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      const where = pos === undefined ? '' : `:${pos.line}:${pos.col}`;
      const first = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
      return `${shown}${where}: ${first} (fix the YAML syntax there)`;
    });
    throw new HerderError('HERDER_ERR_CONFIG_YAML', lines[0] ?? shown, { lines });
  }
  let raw: unknown;
  try {
    raw = doc.toJS() ?? {};
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0] ?? String(e);
    throw new HerderError('HERDER_ERR_CONFIG_YAML', `${shown}: ${msg} (fix the YAML there)`);
  }
  const p = new Problems(shown);
  const spec = buildSpec(raw, file, path.dirname(file), overrides, p);
  if (p.problems.length > 0 || spec === null) {
    throw new HerderError('HERDER_ERR_CONFIG', p.problems[0] ?? `${shown}: invalid`, { lines: p.problems });
  }
  return { spec, notes: p.notes };
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
