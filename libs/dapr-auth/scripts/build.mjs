// Builds the package twice from the same sources:
//   dist/esm  ES modules, for Nest 12 apps (and any ESM app)      -> exports "import"
//   dist/cjs  CommonJS, for Nest 11 apps (`require`)              -> exports "require"
// Both with .d.ts, which keep every TSDoc comment (what editors show); the .js files are emitted
// without comments (the sources' comments explain the code to its maintainers; shipped twice, they
// were a third of the tarball). TypeScript's NodeNext mode picks a file's output format from the nearest
// package.json "type", so the CommonJS build compiles a copy of src/ placed under a
// {"type":"commonjs"} package.json. Unlike `module: commonjs`, NodeNext keeps a dynamic import()
// as import() in CommonJS output, so optional and ESM-only dependencies load the same way in both.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(packageDir, '../../node_modules/typescript/bin/tsc');
const tscRun = (...args) => execFileSync(process.execPath, [tsc, ...args], { cwd: packageDir, stdio: 'inherit' });
// The .js without comments, then the .d.ts with them (removeComments would strip TSDoc from the .d.ts too).
const run = (...args) => {
  tscRun(...args, '--removeComments', '--declaration', 'false');
  tscRun(...args, '--emitDeclarationOnly');
};
const commonjs = JSON.stringify({ type: 'commonjs' }) + '\n';

rmSync(join(packageDir, 'dist'), { recursive: true, force: true });
run('-p', 'tsconfig.build.json');

const cjsSources = join(packageDir, '.build-cjs');
rmSync(cjsSources, { recursive: true, force: true });
try {
  // The command-line tool is an ES module only (bin/nestjs-dapr-auth.mjs runs dist/esm/cli/cli.js).
  cpSync(join(packageDir, 'src'), join(cjsSources, 'src'), { recursive: true, filter: (path) => !/[\\/]src[\\/]cli([\\/]|$)/.test(path) });
  writeFileSync(join(cjsSources, 'package.json'), commonjs);
  run('-p', 'tsconfig.cjs.json');
} finally {
  rmSync(cjsSources, { recursive: true, force: true });
}
mkdirSync(join(packageDir, 'dist/cjs'), { recursive: true });
writeFileSync(join(packageDir, 'dist/cjs/package.json'), commonjs);
