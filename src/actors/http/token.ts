/**
 * The token every action over HTTP needs (and every read when the listener
 * is not on loopback): the user's `runtime.http.token_file`, or `herder.token`
 * next to the database, made once with 32 random bytes and kept for the next
 * runs. Either file must be readable by its owner only (mode 0600): a token
 * others can read is refused, with the command that fixes it. The token is
 * never printed, logged or recorded; only the file's path is.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { HerderError } from '../../runtime/errors.ts';

export interface Token {
  readonly value: string;
  readonly file: string;
}

export function tokenFileFor(dbPath: string): string {
  return path.join(path.dirname(dbPath), 'herder.token');
}

function readToken(file: string, what: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    throw new HerderError(
      'HERDER_ERR_HTTP',
      `${what} ${file} does not exist; create it with one line of text, mode 0600`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new HerderError(
      'HERDER_ERR_HTTP',
      `${what} ${file} can be read by others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); chmod 600 ${file}`,
    );
  }
  const value = readFileSync(file, 'utf8').trim();
  if (value.length < 16) {
    throw new HerderError(
      'HERDER_ERR_HTTP',
      `${what} ${file} holds no token of 16 characters or more; write one in it`,
    );
  }
  return value;
}

export function loadToken(tokenFile: string | null, dbPath: string): Token {
  if (tokenFile !== null) return { value: readToken(tokenFile, 'runtime.http.token_file'), file: tokenFile };
  const file = tokenFileFor(dbPath);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { value: readToken(file, 'the token file'), file };
    throw new HerderError('HERDER_ERR_HTTP', `cannot write the token file ${file}: ${(e as Error).message}`);
  }
  try {
    const value = randomBytes(32).toString('base64url');
    writeSync(fd, `${value}\n`);
    if ((fstatSync(fd).mode & 0o077) !== 0) throw new Error('its mode is not 0600');
    return { value, file };
  } finally {
    closeSync(fd);
  }
}
