// Builds herder to plain JavaScript in dist/, so that long runs need no
// TypeScript loader in the runtime process: `node dist/main.mjs` (what
// `npm start` runs). Each worker's entry is built under the name the runtime
// looks for next to itself.
import { build } from 'esbuild';

await build({
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
});
