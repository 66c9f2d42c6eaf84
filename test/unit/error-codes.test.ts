/** The error table in the README and the codes in the code are the same list, with the same exit codes. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/runtime/errors.ts';
import { ROOT } from '../helpers/cli.ts';

const documented = new Map(
  [
    ...readFileSync(path.join(ROOT, 'README.md'), 'utf8').matchAll(
      /^\| `(HERDER_ERR_[A-Z_]+)` \| [^|]+ \| ([^|]+) \|$/gm,
    ),
  ].map((m) => [m[1] ?? '', (m[2] ?? '').trim()]),
);

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => readFileSync(path.join(e.parentPath, e.name), 'utf8'));
}

describe('error codes', () => {
  it('every code is in the README table and every code in the table exists, with its exit code', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(ErrorCodes).sort());
    for (const [code, entry] of Object.entries(ErrorCodes)) {
      const exit = documented.get(code) ?? '';
      if (entry.exit === null) expect(exit, code).toMatch(/^— /);
      else expect(exit, code).toBe(String(entry.exit));
    }
  });

  it('every code is raised somewhere outside its table', () => {
    const code = sources(path.join(ROOT, 'src'))
      .filter((s) => !s.includes('export const ErrorCodes'))
      .join('\n');
    for (const c of Object.keys(ErrorCodes)) expect(code, c).toContain(`'${c}'`);
  });
});
