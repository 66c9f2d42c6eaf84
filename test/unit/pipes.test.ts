import { closeSync, mkdtempSync, readdirSync, readSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closePipe, PipePool } from '../../src/platform/pipes.ts';

describe('PipePool', () => {
  it('hands out connected pipes whose names are gone, and keeps spares ready', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'herder-pipes-test-'));
    const dirs: string[] = [];
    const warnings: string[] = [];
    const pool = new PipePool(
      4,
      (d) => dirs.push(d),
      (w) => warnings.push(w),
      parent,
    );
    await pool.fill(2);
    expect(dirs).toHaveLength(1);
    const dir = dirs[0] ?? '';
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toHaveLength(6);
    const pair = pool.takePair();
    expect(pair).not.toBeNull();
    if (pair === null) return;
    expect(readdirSync(dir)).toHaveLength(4); // opened and unlinked: anonymous pipes now
    writeSync(pair.stdout.writeFd, 'hello\n');
    const buf = Buffer.alloc(16);
    expect(buf.subarray(0, readSync(pair.stdout.readFd, buf)).toString()).toBe('hello\n');
    expect(statSync(`/proc/self/fd/${pair.stderr.writeFd}`).isFIFO()).toBe(true);
    closeSync(pair.stdout.writeFd);
    expect(readSync(pair.stdout.readFd, buf)).toBe(0); // every writer gone: end of file
    closePipe(pair.stdout);
    closePipe(pair.stderr);
    pool.close();
    expect(readdirSync(parent)).toEqual([]);
    expect(pool.takePair()).toBeNull();
    expect(warnings).toEqual([]);
  });

  it('a folder that cannot be made: one warning, and starts fall back to socket pairs', async () => {
    const warnings: string[] = [];
    const pool = new PipePool(
      4,
      () => {},
      (w) => warnings.push(w),
      '/nonexistent/herder',
    );
    await pool.fill(10);
    expect(pool.takePair()).toBeNull();
    await pool.fill();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^herder: output pipes unavailable \(ENOENT: .*mkdtemp '\/nonexistent\/herder\/herder-pipes-.*'\); capturing through socket pairs, which is slower$/,
    );
  });
});
