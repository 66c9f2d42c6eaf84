/**
 * Every error herder raises on purpose carries a stable code. The CLI turns a
 * user error into one line on stderr (exit 2) and anything else into a bug
 * report (exit 1). Tests assert codes, never message text.
 */
export const ErrorCodes = {
  HERDER_ERR_CONFIG: { user: true, summary: 'actors.yaml is invalid' },
  HERDER_ERR_CONFIG_NOT_FOUND: { user: true, summary: 'the config file does not exist' },
  HERDER_ERR_CONFIG_YAML: { user: true, summary: 'the config file is not valid YAML' },
  HERDER_ERR_ARGS: { user: true, summary: 'a command-line argument is invalid' },
  HERDER_ERR_DB_OPEN: { user: true, summary: 'the database cannot be opened' },
  HERDER_ERR_DB_CORRUPT: { user: true, summary: 'the database file is not a herder database or is damaged' },
  HERDER_ERR_DB_VERSION: { user: true, summary: 'the database was written by a newer herder' },
  HERDER_ERR_DB_MISSING: { user: true, summary: 'there is no database to read yet' },
  HERDER_ERR_DB_FULL: { user: true, summary: 'the filesystem holding the database is full' },
  HERDER_ERR_DB_WRITE: { user: true, summary: 'a write to the database failed (kept and retried)' },
  HERDER_ERR_ALREADY_RUNNING: { user: true, summary: 'another herder run is live on this database' },
  HERDER_ERR_NO_RUN: { user: true, summary: 'the database holds no run' },
  HERDER_ERR_NOT_LIVE: { user: true, summary: 'no live run answers on the control socket' },
  HERDER_ERR_CONTROL: { user: true, summary: 'the live run refused a control request' },
  HERDER_ERR_INTERNAL: { user: false, summary: 'an internal error (a bug in herder)' },
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
}

export function isHerderError(e: unknown): e is HerderError {
  return e instanceof HerderError;
}

export function assertNever(x: never, what = 'value'): never {
  throw new HerderError('HERDER_ERR_INTERNAL', `unexpected ${what}: ${JSON.stringify(x)}`);
}
