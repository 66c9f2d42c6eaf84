/**
 * Where the problems and notes of one config file are gathered, each as one
 * line: `actors.yaml: <where>: <what is wrong> (<how to fix>)`. A zod issue
 * becomes such a line here, an unknown key with the closest known one.
 */
import { describeIssue, type Issue } from './issues.ts';
import { knownKeys } from './schema.ts';
import { suggest } from './suggest.ts';

export class Problems {
  readonly problems: string[] = [];
  /** Settings accepted that will not do all they seem to (a limit a thread cannot have, an alert going nowhere). */
  readonly notes: string[] = [];

  constructor(readonly shown: string) {}

  problem(where: string, what: string, fix: string): void {
    this.problems.push(`${this.shown}: ${where}: ${what} (${fix})`);
  }

  note(line: string): void {
    this.notes.push(`${this.shown}: ${line}`);
  }

  /** A key the mapping at `where` does not have, with the closest one it does or the list of them. */
  unknownKey(where: string, key: string, known: readonly string[]): void {
    const s = suggest(key, known);
    this.problem(
      where,
      'unknown key',
      s !== null ? `did you mean "${s}"?` : `remove it; allowed here: ${known.join(', ')}`,
    );
  }

  /** Zod's issues with the value under `prefix` (`keys`: the keys allowed there), one line each. */
  report(prefix: string, issues: readonly Issue[], keys: readonly string[], input: unknown): void {
    const at = (segments: readonly PropertyKey[]) => {
      const where = [prefix, ...segments.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
        .filter((p) => p !== '')
        .join('.')
        .replace(/\.\[/g, '[');
      return where === '' ? '(top level)' : where;
    };
    for (const issue of issues) {
      if (issue.code === 'unrecognized_keys') {
        const known = keysAt(issue.path, keys);
        for (const key of issue.keys) this.unknownKey(at([...issue.path, key]), key, known);
        continue;
      }
      const [what, fix] = describeIssue(issue, input);
      this.problem(at(issue.path), what, fix);
    }
  }
}

/** The key list that applies where an issue was found (nested mappings have their own). */
function keysAt(p: readonly PropertyKey[], fallback: readonly string[]): readonly string[] {
  const names = p.filter((x): x is string => typeof x === 'string');
  if (names.includes('error_patterns')) return knownKeys.error_patterns;
  if (names.at(-1) === 'resource_limits') return knownKeys.resource_limits;
  return fallback;
}
