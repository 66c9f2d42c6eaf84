/**
 * Output capture: bytes from a pipe become lines (UTF-8 with invalid bytes and
 * NULs replaced, lines over 64 KiB split), and the tail of stderr is kept for the
 * error row of a failure. Python tracebacks are recognised as one error.
 */
import { styleText } from 'node:util';
import type { Stream } from '../record/records.ts';

export const MAX_LINE_CHARS = 64 * 1024;
const STDERR_TAIL_LINES = 20;

export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private partial = '';

  constructor(private readonly emit: (lines: string[]) => void) {}

  push(chunk: Uint8Array): void {
    this.pushText(this.decoder.decode(chunk, { stream: true }));
  }

  pushText(chunk: string): void {
    // SQLite's C strings would end a line at a NUL and lose the rest: it is replaced like an invalid byte.
    const text = this.partial + (chunk.includes('\u0000') ? chunk.replaceAll('\u0000', '\uFFFD') : chunk);
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    const lines: string[] = [];
    for (const p of parts) splitLong(p.endsWith('\r') ? p.slice(0, -1) : p, lines);
    while (this.partial.length > MAX_LINE_CHARS) {
      lines.push(this.partial.slice(0, MAX_LINE_CHARS));
      this.partial = this.partial.slice(MAX_LINE_CHARS);
    }
    if (lines.length > 0) this.emit(lines);
  }

  end(): void {
    const rest = this.partial + this.decoder.decode().replaceAll('\u0000', '\uFFFD');
    this.partial = '';
    if (rest.length > 0) {
      const lines: string[] = [];
      splitLong(rest, lines);
      this.emit(lines);
    }
  }
}

function splitLong(line: string, out: string[]): void {
  if (line.length <= MAX_LINE_CHARS) {
    out.push(line);
    return;
  }
  for (let i = 0; i < line.length; i += MAX_LINE_CHARS) out.push(line.slice(i, i + MAX_LINE_CHARS));
}

export interface Traceback {
  readonly errorType: string;
  readonly message: string;
  readonly context: string;
}

/**
 * Watches stderr lines for Python tracebacks. A finished traceback is held:
 * if the process then exits with an error, it explains that exit; if the
 * process carries on writing, it is reported on its own (a logged exception).
 */
export class StderrWatch {
  private readonly tail: string[] = [];
  private block: string[] | null = null;
  private held: Traceback | null = null;

  constructor(private readonly onLoggedTraceback: (t: Traceback) => void) {}

  lines(lines: readonly string[]): void {
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    this.tail.push(line);
    if (this.tail.length > STDERR_TAIL_LINES) this.tail.shift();
    if (line.startsWith('Traceback (most recent call last):')) {
      this.block = this.held === null ? [line] : [this.held.context, '', line];
      this.held = null;
      return;
    }
    if (this.block !== null) {
      this.block.push(line);
      if (/^\s/.test(line) || line === '') return;
      const m = /^([A-Za-z_][\w.]*)(?::\s?(.*))?$/.exec(line);
      if (m === null) return; // not the exception line yet (e.g. a note)
      this.held = { errorType: m[1] ?? 'Exception', message: m[2] ?? '', context: this.block.join('\n') };
      this.block = null;
      return;
    }
    if (this.held !== null && !/^(During handling|The above exception)/.test(line) && line !== '') {
      this.onLoggedTraceback(this.held);
      this.held = null;
    }
  }

  /** The traceback that explains a failed exit, if the last thing on stderr was one. */
  takeTraceback(): Traceback | null {
    const t = this.held;
    this.held = null;
    return t;
  }

  get lastLines(): string {
    return this.tail.join('\n');
  }

  get lastLine(): string {
    for (let i = this.tail.length - 1; i >= 0; i--) {
      const l = this.tail[i];
      if (l !== undefined && l.trim() !== '') return l.trim();
    }
    return '';
  }
}

const palette = ['cyan', 'green', 'yellow', 'blue', 'magenta', 'redBright', 'greenBright', 'cyanBright'] as const;

/** Prints captured lines as "name | line", each actor in its own colour. */
export class Echo {
  private readonly colours = new Map<string, (typeof palette)[number]>();
  constructor(
    private readonly out: { write(text: string, lines: number): void },
    private readonly colour: boolean,
  ) {}

  private tag(name: string): string {
    let c = this.colours.get(name);
    if (c === undefined) {
      c = palette[this.colours.size % palette.length] ?? 'cyan';
      this.colours.set(name, c);
    }
    return this.colour ? styleText(c, name) : name;
  }

  lines(name: string, stream: Stream, lines: readonly string[]): void {
    const tag = this.tag(name);
    const sep = stream === 'stderr' && this.colour ? styleText('red', '!') : stream === 'stderr' ? '!' : '|';
    let text = '';
    for (const l of lines) text += `${tag} ${sep} ${l}\n`;
    this.out.write(text, lines.length);
  }

  event(name: string, kind: string, detail: string): void {
    const line = `${name} ▸ ${kind}: ${detail}`;
    this.out.write(`${this.colour ? styleText('dim', line) : line}\n`, 1);
  }
}
