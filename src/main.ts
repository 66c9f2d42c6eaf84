#!/usr/bin/env node
/** Entry point: `node --import tsx src/main.ts` or `npx tsx src/main.ts`. */
import { main } from './cli/program.ts';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`herder: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
