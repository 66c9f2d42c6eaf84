import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, query, runCli, startRun, waitForActor } from '../helpers/cli.ts';

describe('ctl reload across a tree', () => {
  it('answers with the line its reload event records, nested actors included; an actor added back runs again', {
    timeout: 120_000,
  }, async () => {
    const head = 'runtime: { protection: { enabled: false } }\nactors:\n';
    const a = '  - name: a\n    command: [sleep, "600"]\n';
    const feeds = (y: string) =>
      `  - supervisor: feeds\n    actors:\n      - name: x\n        command: [sleep, "600"]\n      - name: y\n        command: [sleep, "${y}"]\n`;
    const dir = project(head + a + feeds('600'));
    const file = path.join(dir, 'actors.yaml');
    const run = startRun(dir);
    try {
      const firstA = await waitForActor(dir, 'a', (s) => s.state === 'running' && s.pid !== null);
      const firstY = await waitForActor(dir, 'y', (s) => s.state === 'running' && s.pid !== null);

      writeFileSync(file, head + feeds('601'));
      let r = await runCli(['ctl', 'reload'], dir);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`reloaded ${file}: changed y; removed a; 2 unchanged\n`);
      await waitForActor(dir, 'a', (s) => s.state === 'stopped');
      // A change below the nested supervisor restarts its subtree with the new config.
      await waitForActor(dir, 'y', (s) => s.state === 'running' && s.pid !== null && s.pid !== firstY.pid);

      writeFileSync(file, head + a + feeds('601'));
      r = await runCli(['ctl', 'reload'], dir);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`reloaded ${file}: added a; 3 unchanged\n`);
      await waitForActor(dir, 'a', (s) => s.state === 'running' && s.pid !== null && s.pid !== firstA.pid);
    } finally {
      await run.stop();
    }
    const reloads = query(path.join(dir, 'herder.db'), "SELECT detail FROM events WHERE kind = 'reload' ORDER BY id");
    expect(reloads.map((e) => String(e.detail).replace(/ \(by .*\)$/, ''))).toEqual([
      'changed y; removed a; 2 unchanged',
      'added a; 3 unchanged',
    ]);
  });
});
