#!/usr/bin/env node
/** Entry point: `node --import tsx src/main.ts`, `npx tsx src/main.ts`, or the build: `node dist/main.mjs`. */
import { setFlagsFromString } from 'node:v8';

// SQLite runs as WebAssembly. V8's optimising tier would recompile it for ~35 MB
// of memory (and more memory makes every spawn slower); the baseline compiler
// writes slower (benchmark 7), which the logging thread can afford. The flag must
// be set before any module compiles WebAssembly, hence the dynamic import.
setFlagsFromString('--liftoff-only');
const { main } = await import('./cli/program.ts');

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`herder: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
