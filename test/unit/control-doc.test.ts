/**
 * The README's "Control socket" section and the control API (src/actors/control-api.ts)
 * tell of the same methods: each method is named there, nothing is named there
 * that the API does not answer, and each method's parameter keys are shown.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ControlMethod, controlParams } from '../../src/actors/control-api.ts';
import { ROOT } from '../helpers/cli.ts';

/** Keys a caller leaves out: `logs` reads the run being served unless told another (logger-worker.ts). */
const FILLED_BY_SERVER: Partial<Record<ControlMethod, readonly string[]>> = { logs: ['runId'] };

/** The section's text, without its code blocks. */
function section(readme: string): string {
  const start = readme.indexOf('\n## Control socket\n');
  if (start < 0) return '';
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end).replace(/^```[\s\S]*?^```$/gm, '');
}

const text = section(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
const methods = Object.keys(controlParams) as ControlMethod[];
const keysOf = (m: ControlMethod) => Object.keys(controlParams[m].shape);
/** Every inline code span that is a bare word: a method's name, or a parameter's. */
const words = [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '').filter((w) => /^[a-z][A-Za-z]*$/.test(w));

describe('the README on the control socket', () => {
  it('has its section', () => {
    expect(text).toContain('JSON-RPC');
  });

  it('names every method of the API', () => {
    expect(methods.filter((m) => !words.includes(m))).toEqual([]);
  });

  it('names no method the API does not have', () => {
    const keys = new Set(methods.flatMap(keysOf));
    expect(words.filter((w) => !(methods as string[]).includes(w) && !keys.has(w))).toEqual([]);
  });

  it("shows every parameter key of each method's params", () => {
    const missing = methods.flatMap((m) =>
      keysOf(m)
        .filter((k) => !(FILLED_BY_SERVER[m] ?? []).includes(k) && !text.includes(`"${k}"`))
        .map((k) => `${m}.${k}`),
    );
    expect(missing).toEqual([]);
  });
});
