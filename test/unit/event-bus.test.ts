/** One event bus: each event published once, every sink subscribed, nobody calling a sink by hand. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BusEvent, EventBus } from '../../src/actors/event-bus.ts';
import { herderEvent } from '../../src/runtime/events.ts';
import { exitData } from '../../src/runtime/supervision.ts';
import { ROOT } from '../helpers/cli.ts';

describe('EventBus', () => {
  it('gives every event to every sink, in order; a sink that throws is reported once and spares the others', () => {
    const errors: unknown[] = [];
    const bus = new EventBus((e) => errors.push(e));
    const a: BusEvent[] = [];
    const b: string[] = [];
    bus.subscribe((e) => a.push(e));
    bus.subscribe(() => {
      throw new Error('broken sink');
    });
    const stop = bus.subscribe((e) => b.push(e.kind));
    bus.publish(herderEvent('feed', 'start', { pid: 1, run: null }));
    bus.publish(herderEvent('feed', 'exit', exitData('normal', 2_000, { kind: 'normal' })));
    stop();
    bus.publish(herderEvent('_herder', 'run_end', { status: 'finished', reason: 'every actor finished' }));
    // Each sink gets the fields and the line rendered from them, once, at the bus.
    expect(a.map((e) => [e.process, e.kind, e.detail])).toEqual([
      ['feed', 'start', 'started, pid 1'],
      ['feed', 'exit', 'exited normally after 2s'],
      ['_herder', 'run_end', 'finished: every actor finished'],
    ]);
    expect(a[1]?.data).toEqual({
      cause: 'normal',
      ran_ms: 2_000,
      code: 0,
      signal: null,
      error_type: null,
      message: null,
      during: null,
    });
    expect(b).toEqual(['start', 'exit']);
    expect(errors).toHaveLength(1);
  });

  it('no event sink is called by hand: the record, the echo and the alerter only hear events through the bus', () => {
    const src = path.join(ROOT, 'src');
    const offenders: string[] = [];
    for (const e of readdirSync(src, { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || !/\.tsx?$/.test(e.name)) continue;
      const file = path.join(e.parentPath, e.name);
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const call = /\b(logger|echo)\??\.event\(|\balerter\??\.notify\(/.test(line);
          if (call && !line.includes('bus.subscribe('))
            offenders.push(`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});

describe('event kinds', () => {
  it('the README lists exactly the kinds declared in src/runtime/events.ts', async () => {
    const { EVENT_KINDS } = await import('../../src/runtime/events.ts');
    const row = readFileSync(path.join(ROOT, 'README.md'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('| `events` |'));
    const listed = [...((row ?? '').split('kinds:')[1]?.matchAll(/`([a-z_]+)`/g) ?? [])].map((m) => m[1]);
    expect(listed.filter((k) => k !== '_herder').sort()).toEqual(Object.keys(EVENT_KINDS).sort());
  });
});
