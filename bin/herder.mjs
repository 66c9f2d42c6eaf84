#!/usr/bin/env node
// The `herder` command. `npm install -g .` and `npm link` in the checkout both put a symlink to this file on PATH
// (npm links a folder, it does not copy it), so this runs the checkout's build, dist/main.mjs: plain JavaScript, one
// process, from whatever folder it is started in. npm builds nothing on the way: it runs a linked package's lifecycle
// scripts only as unreviewed install scripts (with a warning today, and not at all once they are blocked), so instead
// a missing install or build is one line saying what to run, and a build older than the sources is a warning.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Node starts a symlinked command from its real path, so this is the checkout (or the installed copy).
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const main = path.join(root, 'dist', 'main.mjs');

function refuse(line) {
  process.stderr.write(`herder: ${line}\n`);
  process.exit(2);
}

/** The first source file changed after the build, or null. src/scripts is not built: jobs use it as it is. */
function newerSource(builtAt) {
  const src = path.join(root, 'src');
  if (!existsSync(src)) return null;
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (file.startsWith(path.join(src, 'scripts', path.sep))) continue;
    if (statSync(file).mtimeMs > builtAt) return path.relative(root, file);
  }
  return null;
}

try {
  createRequire(path.join(root, 'package.json')).resolve('commander');
} catch {
  refuse(`its dependencies are not installed in ${root}: run \`npm install\` and \`npm run build\` there`);
}
if (!existsSync(main)) refuse(`it is not built yet: run \`npm run build\` in ${root}`);
const changed = newerSource(statSync(main).mtimeMs);
if (changed !== null) {
  process.stderr.write(
    `herder: warning: ${changed} changed after the build, which runs as it was (\`npm run build\` in ${root} updates it)\n`,
  );
}
await import(pathToFileURL(main).href);
