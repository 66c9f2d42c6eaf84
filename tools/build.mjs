// Builds herder to plain JavaScript in dist/, so that long runs need no
// TypeScript loader in the runtime process: `node dist/main.mjs` (what
// `npm start` runs). Each worker's entry is built under the name the runtime
// looks for next to itself.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const result = await build({
  entryPoints: {
    main: 'src/main.ts',
    'logger-entry': 'src/actors/logger-worker.ts',
    'thread-entry': 'src/actors/thread-worker.ts',
  },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  write: false,
});
// Each file is written aside and renamed into place, so a herder starting meanwhile (or a second build) never reads
// a file half written. The entry starts with #! and is executable, as esbuild itself would make it.
for (const file of result.outputFiles) {
  mkdirSync(path.dirname(file.path), { recursive: true }); // a fresh checkout has no dist/ yet
  const aside = `${file.path}.${process.pid}.tmp`;
  writeFileSync(aside, file.contents, { mode: file.text.startsWith('#!') ? 0o755 : 0o644 });
  renameSync(aside, file.path);
}
