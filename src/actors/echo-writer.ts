/**
 * Where `--echo` output goes: standard output, written asynchronously with a
 * bounded backlog. A terminal that stops reading (Ctrl-S, a paused pager, a
 * stalled pipe) must not freeze supervision - Node writes to a pipe or a
 * terminal synchronously - so echo lines beyond the backlog are dropped and
 * counted here (the database still gets every line). When the reader goes
 * away (EPIPE, a closed terminal), echo turns itself off.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

const MAX_BACKLOG_BYTES = 1024 * 1024;

export class EchoWriter {
  private readonly stream: WriteStream;
  private broken = false;
  private dropped = 0;

  constructor(
    private readonly warn: (line: string) => void,
    fd = 1,
  ) {
    this.stream = createWriteStream('', { fd, autoClose: false });
    this.stream.on('error', (e) => {
      if (!this.broken) this.warn(`herder: echo turned off: standard output failed (${e.message})`);
      this.broken = true;
    });
  }

  write(text: string, lines: number): void {
    if (this.broken) return;
    if (this.stream.writableLength > MAX_BACKLOG_BYTES) {
      this.dropped += lines;
      return;
    }
    if (this.dropped > 0) {
      this.stream.write(
        `[herder: ${this.dropped} echo lines skipped while the terminal was not reading; all are in the database]\n`,
      );
      this.dropped = 0;
    }
    this.stream.write(text);
  }
}
