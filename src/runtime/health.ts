/**
 * The health score of one actor, 0..1 (1 = healthy), as a pure function of
 * its latest sample and recent history. Each component maps one signal to
 * 0..1; the score is the MINIMUM of the components:
 *
 *   memory   = ramp(rss / limit, 0.7)        limit = max_memory_mb, else machine memory
 *   cpu      = ramp(cpu / limit, 0.8)        limit = max_cpu_percent, else 100 × cores
 *   failures = 1 / (1 + failures)            failures in the recent window
 *   errors   = 5 / (5 + errors)              process_errors rows in the recent window
 *   stall    = ramp(since activity / stall_timeout, 0.5)
 *   self     = the job's own reported score
 *   ramp(r, knee) = 1 while r ≤ knee, then linear down to 0 at r = 1 (and 0 beyond)
 *
 * A missing input (null, NaN, a limit ≤ 0, no stall_timeout) counts as
 * healthy: 1. The minimum, not a mean, because one sick dimension is enough
 * to make an actor sick - a collector stuck on a hung HTTP call uses little
 * memory and CPU and has no failures, and averaging would hide its stall.
 * The minimum also makes the score explainable: it is exactly the value of
 * the weakest component, which events name. The knees leave normal working
 * ranges at 1 so the score only moves when a limit is actually near: memory
 * at 70 % of its limit is ordinary, CPU up to 80 % is busy, not sick, and a
 * job silent for half its stall_timeout is merely quiet. Failures weigh more
 * than errors (one failure halves the score; five logged errors do) because
 * a failure is an exit while an error row may be a handled retry. CPU is the
 * latest sample; "sustained" comes from the grace rule (belowThreshold).
 */
import { formatMs } from './duration.ts';

export interface HealthInputs {
  /** Latest sample. */
  readonly rssMb: number | null;
  /** resource_limits.max_memory_mb, or null: judge against machineMemMb. */
  readonly memLimitMb: number | null;
  /** Total machine memory. */
  readonly machineMemMb: number;
  /** Latest sample (100 = one core). */
  readonly cpuPercent: number | null;
  /** resource_limits.max_cpu_percent, or null: 100 × cores. */
  readonly cpuLimitPercent: number | null;
  readonly cores: number;
  /** Failures in the recent window (e.g. 10 min). */
  readonly recentFailures: number;
  /** process_errors rows in the recent window. */
  readonly recentErrors: number;
  /** ms since the last output line, heartbeat or progress; null = unknown. */
  readonly sinceActivityMs: number | null;
  /** null = stall not judged. */
  readonly stallTimeoutMs: number | null;
  /** The job's own {"type":"health","score":x}, 0..1, or null. */
  readonly selfReported: number | null;
}

export type HealthComponent = 'memory' | 'cpu' | 'failures' | 'errors' | 'stall' | 'self';

/** Every component, in the order that breaks ties for `weakest`. */
export const HEALTH_COMPONENTS: readonly HealthComponent[] = ['memory', 'cpu', 'failures', 'errors', 'stall', 'self'];

export interface HealthScore {
  /** 0..1, 1 = healthy: the minimum of the components. */
  readonly score: number;
  /** Each 0..1. */
  readonly components: Readonly<Record<HealthComponent, number>>;
  /** The lowest component (the first in HEALTH_COMPONENTS on a tie). */
  readonly weakest: HealthComponent;
  /** e.g. "stall 0.00: no output, heartbeat or progress for 5m10s (stall_timeout 5m00s)". */
  readonly detail: string;
}

/** Where each ramp leaves 1, as a fraction of its limit. */
export const MEMORY_KNEE = 0.7;
export const CPU_KNEE = 0.8;
export const STALL_KNEE = 0.5;
/** The error count at which the errors component is 0.5. */
export const ERRORS_HALF = 5;
/** health_grace when the config leaves it out. */
export const DEFAULT_HEALTH_GRACE = 3;

/** 1 while ratio ≤ knee, linear to 0 at ratio 1; an unknown ratio (NaN) is healthy. */
function ramp(ratio: number, knee: number): number {
  if (Number.isNaN(ratio) || ratio <= knee) return 1;
  if (ratio >= 1) return 0;
  return (1 - ratio) / (1 - knee);
}

/** A count as a non-negative number; NaN (unknown) as 0. */
function count(n: number): number {
  return Number.isNaN(n) ? 0 : Math.max(0, n);
}

function known(x: number | null): x is number {
  return x !== null && !Number.isNaN(x);
}

function positive(x: number | null): x is number {
  return known(x) && x > 0;
}

const pct = (ratio: number) => `${Math.round(ratio * 100)} %`;

export function healthScore(x: HealthInputs): HealthScore {
  const memLimit = positive(x.memLimitMb) ? x.memLimitMb : x.machineMemMb;
  const memOf = positive(x.memLimitMb) ? 'limit' : 'machine memory';
  const cpuLimit = positive(x.cpuLimitPercent) ? x.cpuLimitPercent : 100 * x.cores;
  const cpuOf = positive(x.cpuLimitPercent) ? 'limit' : `for ${x.cores} cores`;
  const failures = count(x.recentFailures);
  const errors = count(x.recentErrors);
  const stallJudged = positive(x.stallTimeoutMs) && known(x.sinceActivityMs);
  const self = known(x.selfReported) ? Math.min(1, Math.max(0, x.selfReported)) : 1;

  const components: Record<HealthComponent, number> = {
    memory: known(x.rssMb) && positive(memLimit) ? ramp(x.rssMb / memLimit, MEMORY_KNEE) : 1,
    cpu: known(x.cpuPercent) && positive(cpuLimit) ? ramp(x.cpuPercent / cpuLimit, CPU_KNEE) : 1,
    failures: 1 / (1 + failures),
    errors: ERRORS_HALF / (ERRORS_HALF + errors),
    stall: stallJudged ? ramp(x.sinceActivityMs / x.stallTimeoutMs, STALL_KNEE) : 1,
    self,
  };

  let weakest: HealthComponent = 'memory';
  for (const c of HEALTH_COMPONENTS) if (components[c] < components[weakest]) weakest = c;
  const score = components[weakest];

  const why = (): string => {
    switch (weakest) {
      case 'memory':
        return known(x.rssMb) && positive(memLimit)
          ? `rss ${Math.round(x.rssMb)} MB of ${Math.round(memLimit)} MB ${memOf} (${pct(x.rssMb / memLimit)})`
          : 'memory not known';
      case 'cpu':
        return known(x.cpuPercent) && positive(cpuLimit)
          ? `cpu ${Math.round(x.cpuPercent)} % of ${Math.round(cpuLimit)} % ${cpuOf} (${pct(x.cpuPercent / cpuLimit)})`
          : 'cpu not known';
      case 'failures':
        return `${failures} failure${failures === 1 ? '' : 's'} in the recent window`;
      case 'errors':
        return `${errors} error${errors === 1 ? '' : 's'} in the recent window`;
      case 'stall':
        return stallJudged
          ? `no output, heartbeat or progress for ${formatMs(x.sinceActivityMs)} (stall_timeout ${formatMs(x.stallTimeoutMs)})`
          : 'stall not judged';
      case 'self':
        return known(x.selfReported) ? `the job reports health ${self.toFixed(2)}` : 'the job reports no health';
    }
  };

  return { score, components, weakest, detail: `${weakest} ${score.toFixed(2)}: ${why()}` };
}

/**
 * Consecutive-sample rule: returns the new count of samples below threshold
 * and whether to act now. `act` is true exactly once, on the sample where the
 * count reaches grace; the count keeps growing after that (so a caller that
 * does not reset does not act again) and drops to 0 on any sample at or above
 * the threshold. A null threshold disables the rule; grace below 1 means 1.
 */
export function belowThreshold(
  prevCount: number,
  score: number,
  threshold: number | null,
  grace: number,
): { count: number; act: boolean } {
  if (threshold === null || !(score < threshold)) return { count: 0, act: false };
  const need = Number.isFinite(grace) ? Math.max(1, Math.ceil(grace)) : DEFAULT_HEALTH_GRACE;
  const next = Math.max(0, Number.isFinite(prevCount) ? Math.floor(prevCount) : 0) + 1;
  return { count: next, act: next === need };
}
