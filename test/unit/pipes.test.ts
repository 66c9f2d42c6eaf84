import { closeSync, mkdirSync, mkdtempSync, readdirSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closePipe, PipePool } from '../../src/platform/pipes.ts';

const parents: string[] = [];
function parentFolder(): string {
  const p = mkdtempSync(path.join(tmpdir(), 'herder-pipes-test-'));
  parents.push(p);
  return p;
}
afterEach(() => {
  for (const p of parents.splice(0)) rmSync(p, { recursive: true, force: true });
});

describe('PipePool', () => {
  it('keeps anonymous pipes ready (no names left to swap) and hands out connected pairs', async () => {
    const parent = parentFolder();
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
    expect(path.basename(dir)).toMatch(new RegExp(`^herder-pipes-${process.pid}-`));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toEqual([]); // opened and unlinked as soon as made
    const pair = pool.takePair();
    expect(pair).not.toBeNull();
    if (pair === null) return;
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

  it('starts that find it empty fall back, and a later fill makes up for them', async () => {
    const pool = new PipePool(
      2,
      () => {},
      () => {},
      parentFolder(),
    );
    await pool.fill();
    const pairs = [pool.takePair()]; // the only pair: a refill of the spare starts
    expect(pool.takePair()).toBeNull(); // empty: this start uses socket pairs
    await pool.fill();
    pairs.push(pool.takePair()); // empty again: this refill adds a pair for the start that missed
    await pool.fill();
    pairs.push(pool.takePair(), pool.takePair());
    expect(pairs.map((p) => p !== null)).toEqual([true, true, true, true]);
    for (const p of pairs) if (p !== null) for (const x of [p.stdout, p.stderr]) closePipe(x);
    pool.close();
  });

  it('removes folders of herders that are gone, and only those', async () => {
    const parent = parentFolder();
    const dead = path.join(parent, 'herder-pipes-999999999-abcdef'); // above any pid_max
    const live = path.join(parent, `herder-pipes-${process.ppid}-abcdef`);
    mkdirSync(dead);
    mkdirSync(live);
    const pool = new PipePool(
      2,
      () => {},
      () => {},
      parent,
    );
    await pool.fill();
    const left = readdirSync(parent);
    expect(left).toHaveLength(2);
    expect(left).toEqual(
      expect.arrayContaining([path.basename(live), expect.stringMatching(new RegExp(`^herder-pipes-${process.pid}-`))]),
    );
    pool.close();
  });

  it('closing while a fill is under way neither throws nor leaves the folder', async () => {
    const parent = parentFolder();
    const pool = new PipePool(
      2,
      () => {},
      () => {},
      parent,
    );
    await pool.fill();
    const filling = pool.fill(500);
    expect(() => pool.close()).not.toThrow();
    await filling;
    expect(pool.takePair()).toBeNull();
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
      /^herder: output pipes unavailable \(ENOENT: .*mkdtemp '\/nonexistent\/herder\/herder-pipes-\d+-.*'\); capturing through socket pairs, which is slower$/,
    );
  });

  it('a TMPDIR with a line break is refused (the reaper reads one folder per line)', async () => {
    const weird = path.join(parentFolder(), 'a\nb');
    mkdirSync(weird);
    const warnings: string[] = [];
    const dirs: string[] = [];
    const pool = new PipePool(
      2,
      (d) => dirs.push(d),
      (w) => warnings.push(w),
      weird,
    );
    await pool.fill();
    expect(pool.takePair()).toBeNull();
    expect(dirs).toEqual([]);
    expect(readdirSync(weird)).toEqual([]);
    expect(warnings[0]).toContain('a folder name with a line break');
  });
});
