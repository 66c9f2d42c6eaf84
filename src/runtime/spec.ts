/**
 * The typed, frozen child specifications the runtime works from. The config
 * layer (src/config) turns actors.yaml into these; nothing here knows YAML.
 * Names follow Erlang/OTP's child specs where they exist.
 */
/** Machine protection: percents of memory in use, and of all cores (held for sustainSamples readings). */
export interface ProtectionSettings {
  readonly memory: { readonly warn: number; readonly critical: number; readonly resume: number };
  readonly cpu: {
    readonly warn: number;
    readonly critical: number;
    readonly resume: number;
    readonly sustainSamples: number;
  };
}

export interface AlertSettings {
  readonly command: readonly string[] | null;
  readonly webhook: string | null;
  readonly rateLimitMs: number;
}

export type RestartType = 'permanent' | 'transient' | 'temporary';
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

export interface BackoffSpec {
  /** Delay after the first consecutive failure. */
  readonly initialMs: number;
  /** Cap of the doubling. */
  readonly maxMs: number;
  /** Fraction (0..1) by which a delay may be shortened at random. */
  readonly jitter: number;
}

/** Fields every child of a supervisor has, whatever it runs. */
export interface ChildCommon {
  readonly name: string;
  readonly priority: number;
  readonly restart: RestartType;
  /** Restarts in a row allowed before the child is given up; 0 = no limit. */
  readonly maxRestarts: number;
  readonly backoff: BackoffSpec;
  /** A run this long counts as a success and resets the failure count. */
  readonly resetAfterMs: number;
  readonly shutdownGraceMs: number;
}

export interface ProcessLaunch {
  readonly type: 'process';
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

export interface ThreadLaunch {
  readonly type: 'thread';
  /** Absolute path of the module whose default export is run(ctx). */
  readonly module: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** V8 old-generation limit for the worker, from resource_limits.max_memory_mb. */
  readonly maxHeapMb: number | null;
}

/** A regular expression watched for in an actor's output, and what a match does. */
export interface ErrorPatternSpec {
  /** The error_type of its rows: the pattern's name, or the pattern itself. */
  readonly name: string;
  readonly source: string;
  readonly action: 'restart' | 'backoff' | 'alert' | 'ignore';
  readonly stream: 'stdout' | 'stderr' | 'both';
}

export interface ResourceLimits {
  readonly maxMemoryMb: number | null;
  readonly maxCpuPercent: number | null;
  readonly maxFds: number | null;
  readonly action: 'restart' | 'alert' | 'pause';
}

/** What the health monitor watches for an actor. */
export interface HealthSettings {
  readonly healthThreshold: number | null;
  /** Samples in a row below the threshold before acting. */
  readonly healthGrace: number;
  readonly stallTimeoutMs: number | null;
  readonly resourceLimits: ResourceLimits | null;
  /** Samples in a row over a limit before it counts as exceeded. */
  readonly limitGrace: number;
  readonly errorPatterns: readonly ErrorPatternSpec[];
}

export interface WorkerSpec extends ChildCommon {
  readonly kind: 'worker';
  readonly launch: ProcessLaunch | ThreadLaunch;
  /** Present for loop jobs: a normal exit means "done, run again later". */
  readonly loop: {
    readonly intervalMs: number;
    /** Its next run is taken from the record when herder restarts (resume: false opts out). */
    readonly resume: boolean;
  } | null;
  readonly runTimeoutMs: number | null;
  readonly health: HealthSettings;
}

export interface SupervisorSpec extends ChildCommon {
  readonly kind: 'supervisor';
  readonly strategy: Strategy;
  /** Restarts allowed within periodMs before this supervisor gives up; 0 = no limit. */
  readonly intensity: number;
  readonly periodMs: number;
  /** In start order (priority, then file order). */
  readonly children: readonly ChildSpec[];
}

export type ChildSpec = WorkerSpec | SupervisorSpec;

export interface RunSpec {
  readonly configPath: string;
  readonly dbPath: string;
  /** null = no limit. */
  readonly maxRuntimeMs: number | null;
  readonly shutdownGraceMs: number;
  /** Newest lines of output kept per actor. */
  readonly outputRetentionLines: number;
  /** Output held in memory while the database writer catches up; beyond it lines are dropped and counted. */
  readonly outputBufferBytes: number;
  /** How often every actor's resources (and the machine's) are sampled; null = never. */
  readonly sampleIntervalMs: number | null;
  readonly protection: ProtectionSettings | null;
  readonly alerts: AlertSettings | null;
  readonly leak: { readonly windowMs: number; readonly minSamples: number };
  /** The web dashboard, its API and /metrics; null = off (the default). */
  readonly http: HttpSettings | null;
  readonly root: SupervisorSpec;
}

export interface HttpSettings {
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  /** The user's token file (mode 0600); null = herder.token next to the database, made when missing. */
  readonly tokenFile: string | null;
}

/** Every worker below a supervisor, depth first, in start order. */
export function allWorkers(spec: SupervisorSpec): WorkerSpec[] {
  const out: WorkerSpec[] = [];
  for (const c of spec.children) {
    if (c.kind === 'worker') out.push(c);
    else out.push(...allWorkers(c));
  }
  return out;
}
