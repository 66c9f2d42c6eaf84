/**
 * GET a URL and parse JSON, failing in the typed ways a collector meets:
 * HttpError (with Retry-After), BadPayload html (a rate-limit page where JSON
 * was expected), truncated (a body cut short) or json (not JSON at all).
 */
import { BadPayload, HttpError } from './errors.ts';
import { parseRetryAfter } from './resilience.ts';

export async function fetchText(
  url: string,
  signal: AbortSignal,
): Promise<{ text: string; type: string; length: number | null }> {
  const res = await fetch(url, { signal, headers: { accept: 'application/json, text/csv;q=0.9, */*;q=0.1' } });
  const text = await res.text();
  if (!res.ok) throw new HttpError(res.status, parseRetryAfter(res.headers.get('retry-after')), url, text);
  const length = res.headers.get('content-length');
  return { text, type: res.headers.get('content-type') ?? '', length: length === null ? null : Number(length) };
}

export async function fetchJson<T = unknown>(url: string, signal: AbortSignal): Promise<T> {
  const { text, type } = await fetchText(url, signal);
  if (/html/i.test(type) || /^\s*</.test(text)) throw new BadPayload('html', url, text);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new BadPayload(cutShort(text) ? 'truncated' : 'json', url, text);
  }
}

/** JSON that opens more brackets (outside strings) than it closes simply stopped: it was cut short. */
export function cutShort(text: string): boolean {
  if (!/^\s*[[{]/.test(text)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
  }
  return depth > 0 || inString;
}
