#!/usr/bin/env node
// The installed `nestjs-dapr-auth` command. The published package always has dist/; in a clone of
// the repository, where `npm ci` builds nothing, the library is built on first use.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/esm/cli/cli.js', import.meta.url);
const build = new URL('../scripts/build.mjs', import.meta.url);
if (!existsSync(fileURLToPath(cli)) && existsSync(fileURLToPath(build))) {
  process.stderr.write('nestjs-dapr-auth: building the library first (a clone of the repository; npm run build does the same)\n');
  // stdout stays the tool's own: `TOKEN=$(npx nestjs-dapr-auth generate)` must capture the token only.
  execFileSync(process.execPath, [fileURLToPath(build)], { stdio: ['ignore', 'ignore', 'inherit'] });
}
await import(cli.href);
