/**
 * Every error herder raises on purpose carries a stable code. The CLI turns a
 * user error into one line on stderr (exit 2) and anything else into a bug
 * report (exit 1). Tests assert codes, never message text.
 */
export const ErrorCodes = {
  HERDER_ERR_CONFIG: { user: true, exit: 2, summary: 'actors.yaml is invalid' },
  HERDER_ERR_CONFIG_NOT_FOUND: { user: true, exit: 2, summary: 'the config file does not exist' },
  HERDER_ERR_CONFIG_YAML: { user: true, exit: 2, summary: 'the config file is not valid YAML' },
  HERDER_ERR_ARGS: { user: true, exit: 2, summary: 'a command-line argument (or a control request) is invalid' },
  HERDER_ERR_DB_OPEN: { user: true, exit: 2, summary: 'the database cannot be opened' },
  HERDER_ERR_DB_CORRUPT: { user: true, exit: 2, summary: 'the database file is not a herder database or is damaged' },
  HERDER_ERR_DB_VERSION: { user: true, exit: 2, summary: 'the database was written by a newer herder' },
  HERDER_ERR_DB_MISSING: { user: true, exit: 2, summary: 'there is no database to read yet' },
  // A run's writes that fail are kept and retried: said on stderr, never the end of a command.
  HERDER_ERR_DB_FULL: { user: true, exit: null, summary: 'the filesystem holding the database is full' },
  HERDER_ERR_DB_WRITE: { user: true, exit: null, summary: 'a write to the database failed' },
  HERDER_ERR_ALREADY_RUNNING: { user: true, exit: 2, summary: 'another herder run is live on this database' },
  HERDER_ERR_NO_RUN: { user: true, exit: 2, summary: 'the database holds no such run' },
  HERDER_ERR_NOT_LIVE: { user: true, exit: 1, summary: 'no live run answers on the control socket' },
  HERDER_ERR_HTTP: {
    user: true,
    exit: 2,
    summary:
      'the HTTP listener cannot start (its address is taken, or its token file is missing or readable by others)',
  },
  HERDER_ERR_CONTROL: { user: true, exit: 1, summary: 'the live run refused a command, or did not answer' },
  HERDER_ERR_INTERNAL: { user: false, exit: 1, summary: 'an internal error (a bug in herder)' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class HerderError extends Error {
  readonly code: ErrorCode;
  /** Extra lines (for example every problem found in a config file). */
  readonly lines: readonly string[];

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; lines?: readonly string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HerderError';
    this.code = code;
    this.lines = options.lines ?? [message];
  }

  get isUserError(): boolean {
    return ErrorCodes[this.code].user;
  }

  /** The CLI's exit code for it: 2 for a mistake to fix, 1 for a refusal or no live run (and for a bug). */
  get exitCode(): 1 | 2 {
    return ErrorCodes[this.code].exit ?? 1;
  }
}

export function isHerderError(e: unknown): e is HerderError {
  return e instanceof HerderError;
}

export function assertNever(x: never, what = 'value'): never {
  throw new HerderError('HERDER_ERR_INTERNAL', `unexpected ${what}: ${JSON.stringify(x)}`);
}
