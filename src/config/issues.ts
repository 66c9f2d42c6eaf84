/**
 * A zod issue in words: the "<what> (<fix>)" half of a config problem line,
 * quoting the value as the user wrote it.
 */
import type { z } from 'zod';
import { type DurationUnit, durationForms } from '../runtime/duration.ts';
import { suggest } from './suggest.ts';

export type Issue = z.core.$ZodIssue;

export function describeIssue(issue: Issue, input: unknown): [string, string] {
  const got = valueAt(input, issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      if (got === undefined) return ['is required', `add it: ${article(issue.expected)}`];
      return [`expected ${article(issue.expected)}, got ${shownValue(got)}`, `write ${article(issue.expected)} here`];
    }
    case 'invalid_value': {
      const allowed = issue.values.map(String);
      const s = typeof got === 'string' ? suggest(got, allowed) : null;
      return [
        `${JSON.stringify(got)} is not one of ${allowed.join(', ')}`,
        s !== null ? `did you mean "${s}"?` : `use one of ${allowed.join(', ')}`,
      ];
    }
    case 'invalid_union':
      return [`${JSON.stringify(got)} has the wrong type`, 'write a string, a number or true/false'];
    case 'too_small':
      if (issue.origin === 'array') {
        return ['is empty', issue.path.at(-1) === 'actors' ? 'add at least one actor' : 'add at least one entry'];
      }
      if (issue.origin === 'string') return ['is empty', 'write a value or remove the key'];
      return [
        `${JSON.stringify(got)} is too small`,
        `use a value ${issue.inclusive === false ? 'above' : 'of at least'} ${String(issue.minimum)}`,
      ];
    case 'too_big':
      return [`${JSON.stringify(got)} is too big`, `use a value of at most ${String(issue.maximum)}`];
    case 'invalid_format':
      return [`${JSON.stringify(got)} ${issue.message}`, 'rename it'];
    case 'custom': {
      const unit = issue.params?.durationUnit as DurationUnit | undefined;
      if (unit !== undefined) return [`${shownValue(got)} is not a duration`, durationForms(unit)];
      return [issue.message, 'see actors.yaml in the README for the allowed values'];
    }
    default:
      return [issue.message, 'see actors.yaml in the README for the allowed values'];
  }
}

/** A value as the user wrote it, short: "soon", 5, true, a list, a mapping. */
function shownValue(v: unknown): string {
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'a list' : 'a mapping';
  if (typeof v === 'number' || v === undefined) return String(v); // JSON would print Infinity as null
  return JSON.stringify(v) ?? String(v);
}

function article(expected: string): string {
  const map: Record<string, string> = {
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping',
    int: 'a whole number',
  };
  return map[expected] ?? expected;
}

function valueAt(input: unknown, p: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const k of p) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}
