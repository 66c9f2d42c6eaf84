/**
 * Alerts: the events a person should hear about (an actor given up, a health
 * action, a limit exceeded, a suspected leak, machine pressure, an escalation,
 * an error pattern with action "alert") sent to runtime.alerts: a command
 * (the alert as JSON on its stdin and in HERDER_ALERT) and/or a webhook (POST
 * of the same JSON, 3 s timeout, three tries with exponential backoff). The
 * same actor and kind alert at most once per rate-limit window. Delivery runs
 * beside supervision and never blocks it; a failed delivery is recorded as an
 * "alert_failed" error.
 */
import { spawn } from 'node:child_process';
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import type { Clock } from '../runtime/clock.ts';
import type { AlertSettings } from '../runtime/spec.ts';

export const ALERT_KINDS: ReadonlySet<string> = new Set([
  'giveup',
  'escalate',
  'health',
  'limit',
  'leak',
  'pressure',
  'alert',
]);

export interface AlertRecord {
  readonly format: 'herder.alert/1';
  readonly run_id: number;
  readonly ts: number;
  readonly process: string;
  readonly kind: string;
  readonly detail: string;
}

const WEBHOOK_TIMEOUT_MS = 3_000;
const COMMAND_TIMEOUT_MS = 10_000;

export class Alerter {
  private readonly last = new Map<string, number>();
  private readonly webhookRetry = retry(handleAll, {
    maxAttempts: 2,
    backoff: new ExponentialBackoff({ initialDelay: 500, maxDelay: 5_000 }),
  });
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly settings: AlertSettings,
    private readonly clock: Clock,
    private readonly runId: number,
    private readonly failed: (message: string, context: string) => void,
  ) {}

  /** Sends an alert for an event of an alerting kind, unless one went out for it recently. */
  notify(process: string, kind: string, detail: string): void {
    if (!ALERT_KINDS.has(kind)) return;
    const key = `${process}\u0000${kind}`;
    const now = this.clock.now();
    const prev = this.last.get(key);
    if (prev !== undefined && now - prev < this.settings.rateLimitMs) return;
    this.last.set(key, now);
    const alert: AlertRecord = {
      format: 'herder.alert/1',
      run_id: this.runId,
      ts: this.clock.wall() / 1000,
      process,
      kind,
      detail,
    };
    const json = JSON.stringify(alert);
    if (this.settings.command !== null) this.track(this.runCommand(this.settings.command, json));
    if (this.settings.webhook !== null) this.track(this.post(this.settings.webhook, json));
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Waits (bounded) for alerts still being delivered, at the end of a run. */
  async drain(timeoutMs = 5_000): Promise<void> {
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  private runCommand(argv: readonly string[], json: string): Promise<void> {
    const [program, ...args] = argv;
    return new Promise((resolve) => {
      const child = spawn(program ?? '', args, {
        stdio: ['pipe', 'ignore', 'pipe'],
        env: { ...process.env, HERDER_ALERT: json },
      });
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        stderr = (stderr + d).slice(-2000);
      });
      child.stdin?.on('error', () => {});
      child.stdin?.end(`${json}\n`);
      child.on('error', (e) => {
        clearTimeout(timer);
        this.failed(`alert command ${program} could not start: ${e.message}`, json);
        resolve();
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code !== 0)
          this.failed(`alert command ${program} failed (${signal ?? `exit ${code}`})`, `${stderr}\n${json}`);
        resolve();
      });
    });
  }

  private async post(url: string, json: string): Promise<void> {
    try {
      await this.webhookRetry.execute(async () => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: json,
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      });
    } catch (e) {
      this.failed(`alert webhook ${url} failed after 3 tries: ${e instanceof Error ? e.message : String(e)}`, json);
    }
  }
}
