/** No source file grows past 400 lines: past that, a module does more than one job and is split by concern. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';

describe('source files', () => {
  it('are at most 400 lines each in src/', () => {
    const src = path.join(ROOT, 'src');
    const long: string[] = [];
    let seen = 0;
    for (const e of readdirSync(src, { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || !/\.(ts|tsx|mjs)$/.test(e.name)) continue;
      seen++;
      const file = path.join(e.parentPath, e.name);
      const lines = readFileSync(file, 'utf8').split('\n').length - 1;
      if (lines > 400) long.push(`${path.relative(ROOT, file)}: ${lines} lines`);
    }
    expect(seen).toBeGreaterThan(50);
    expect(long).toEqual([]);
  });
});
