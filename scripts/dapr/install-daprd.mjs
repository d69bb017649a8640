// `npm run dapr:install`: builds Dapr's sidecar, daprd, and the two control-plane services actors
// and jobs need, placement and scheduler, from the Go module proxy and caches them outside the
// repository. Also imported by the daprd suite and `npm run start:dapr`, which build on demand.
// `DAPRD_BIN=/path/to/daprd` skips all of this and uses that binary (and `placement` and
// `scheduler` beside it, as the Dapr CLI lays them out in ~/.dapr/bin, if a test needs them).
//
// How: `go mod download github.com/dapr/dapr@<version>`, copy the module to a scratch directory,
// put dapr/daprd/components.go.in in place of cmd/daprd/components/zz_notag.go (it registers the
// components the suite needs, see that file for why), and run
// `go build ./cmd/daprd ./cmd/placement ./cmd/scheduler` there, one build of one module, so the
// three always come from the same release: daprd's go.mod has `replace` lines, so
// `go install …@version` refuses it, and its go.sum pins every dependency.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, chmodSync, constants, cpSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The daprd release the suite runs by default: the newest whose dependencies the module proxy here serves (v1.18.3 needs a durabletask-go it does not). */
export const DEFAULT_DAPR_VERSION = 'v1.18.2';
/** The release built and run: `$DAPRD_VERSION` (e.g. the oldest supported, {@link OLDEST_TESTED_DAPR_VERSION}), else the default. */
export const DAPR_VERSION = process.env.DAPRD_VERSION || DEFAULT_DAPR_VERSION;
/** The oldest daprd that sends the token on gRPC app callbacks too (dapr/dapr#9142), read from its source. */
export const MIN_DAPR_VERSION = 'v1.16.2';
/**
 * The oldest release the daprd suite runs against (`DAPRD_VERSION=v1.16.2 npm run test:dapr`): the
 * oldest the docs claim, built with one substituted dependency (SUBSTITUTED_DEPENDENCIES).
 */
export const OLDEST_TESTED_DAPR_VERSION = MIN_DAPR_VERSION;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const componentsFile = join(repoRoot, 'dapr/daprd/components.go.in');

/** Where built binaries are kept: `$DAPR_AUTH_CACHE_DIR`, else `$XDG_CACHE_HOME/nestjs-dapr-auth`, else `~/.cache/nestjs-dapr-auth`. */
export function cacheDir() {
  return process.env.DAPR_AUTH_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'nestjs-dapr-auth');
}

/**
 * Dependencies replaced for a release whose own pinned version the module proxy here refuses (403),
 * by the nearest version it serves. Only components-contrib: daprd's app channel, the token and
 * the control plane are dapr/dapr's own code, and the four components registered
 * (dapr/daprd/components.go.in) are the same in those patch releases. Logged when used, and
 * named in the README's version matrix.
 */
export const SUBSTITUTED_DEPENDENCIES = {
  'v1.16.2': { 'github.com/dapr/components-contrib': 'v1.16.1' }, // v1.16.3 refused
};

/** Whether daprd `version` is at least `minimum` (both `vX.Y.Z`). */
export function isAtLeast(version, minimum) {
  const parts = (text) => text.replace(/^v/, '').split(/[.-]/).slice(0, 3).map(Number);
  const [a, b] = [parts(version), parts(minimum)];
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

/** The commands built, each from `./cmd/<name>` of the same module. */
const COMMANDS = ['daprd', 'placement', 'scheduler'];

/** The cached build's directory, keyed by the daprd version and the components registered in it. */
export function cachedBuildDir() {
  const components = createHash('sha256').update(readFileSync(componentsFile)).digest('hex').slice(0, 12);
  return join(cacheDir(), `dapr-${DAPR_VERSION}-${components}`);
}

/** The cached daprd's path. */
export function cachedDaprdPath() {
  return join(cachedBuildDir(), 'daprd');
}

/** Whether `path` is a file this process may run (a cached build is reused only then). */
export function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function goVersion() {
  const result = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(
      `Go is needed to build daprd ${DAPR_VERSION} (daprd is the Go command github.com/dapr/dapr/cmd/daprd), ` +
        `but "go version" failed: ${result.error?.message ?? result.stderr.trim()}. ` +
        `Install Go 1.26.5 or later, or set DAPRD_BIN to an existing daprd ${MIN_DAPR_VERSION} or later.`,
    );
  }
  return result.stdout.trim();
}

function elapsed(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/** Seconds between "still working" lines during the long steps (the first build takes minutes). */
const PROGRESS_EVERY_S = 20;

/**
 * Runs a long command synchronously (callers need the result before going on) and prints a line
 * with the elapsed time every PROGRESS_EVERY_S seconds meanwhile, through a small Node process that
 * owns the command (this process is blocked and cannot print itself), on stderr. Returns the
 * command's stdout.
 */
function runWithProgress(label, command, args, { cwd, since }) {
  const supervisor = `
    const [command, args, cwd, label, every, since] = JSON.parse(process.argv[1]);
    const child = require('node:child_process').spawn(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setInterval(() => console.error(label + ' (' + ((Date.now() - since) / 1000).toFixed(0) + ' s so far)'), every * 1000);
    child.on('exit', (code) => { clearInterval(timer); process.exit(code ?? 1); });
  `;
  const result = spawnSync(process.execPath, ['-e', supervisor, JSON.stringify([command, args, cwd ?? process.cwd(), label, PROGRESS_EVERY_S, since])], {
    encoding: 'utf8',
    // stderr live: the command's own messages and the progress lines appear as they happen.
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  return result.stdout;
}

/**
 * Returns the path of a daprd to run: `$DAPRD_BIN` if set, else the cached build, building it
 * first when there is none. `log` receives one line per step.
 */
export function ensureDaprd(options = {}) {
  return ensureDaprBinaries(options).daprd;
}

/**
 * Returns the paths of daprd, placement and scheduler from one release: beside `$DAPRD_BIN` if
 * that is set (placement and scheduler are then checked only when a test starts them), else the
 * cached build, building all three first when there is none.
 */
export function ensureDaprBinaries({ log = (line) => console.log(line) } = {}) {
  if (process.env.DAPRD_BIN) {
    const bin = resolve(process.env.DAPRD_BIN);
    if (!isExecutable(bin)) throw new Error(`DAPRD_BIN=${process.env.DAPRD_BIN} is not an executable file. Unset it to build daprd ${DAPR_VERSION}.`);
    log(`daprd: using DAPRD_BIN=${bin}`);
    return Object.fromEntries(COMMANDS.map((name) => [name, name === 'daprd' ? bin : join(dirname(bin), name)]));
  }
  const dir = cachedBuildDir();
  const binaries = Object.fromEntries(COMMANDS.map((name) => [name, join(dir, name)]));
  if (COMMANDS.every((name) => isExecutable(binaries[name]))) {
    log(`daprd: using the cached build in ${dir}`);
    return binaries;
  }

  const started = Date.now();
  log(
    `daprd: building daprd, placement and scheduler ${DAPR_VERSION} from the Go module proxy (${goVersion()}); ` +
      'the first build downloads ~1 GB of modules and takes a few minutes',
  );
  const download = JSON.parse(
    runWithProgress('daprd: downloading the module source', 'go', ['mod', 'download', '-json', `github.com/dapr/dapr@${DAPR_VERSION}`], { since: started }),
  );
  if (download.Error) throw new Error(`go mod download github.com/dapr/dapr@${DAPR_VERSION} failed: ${download.Error}`);
  log(`daprd: module source in ${download.Dir} (${elapsed(started)})`);

  const scratch = join(cacheDir(), `build-${DAPR_VERSION}-${process.pid}`);
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    cpSync(download.Dir, scratch, { recursive: true });
    chmodSync(scratch, 0o755);
    execFileSync('chmod', ['-R', 'u+w', scratch]); // the module cache is read-only
    cpSync(componentsFile, join(scratch, 'cmd/daprd/components/zz_notag.go'));
    const substitutes = Object.entries(SUBSTITUTED_DEPENDENCIES[DAPR_VERSION] ?? {});
    for (const [module, version] of substitutes) {
      log(`daprd: ${module} pinned by ${DAPR_VERSION} is not served here; building with ${version} instead`);
      execFileSync('go', ['mod', 'edit', `-replace=${module}=${module}@${version}`], { cwd: scratch });
    }
    log(`daprd: go build ${COMMANDS.map((name) => `./cmd/${name}`).join(' ')} (downloads what they import, then compiles; ${elapsed(started)} so far)`);
    runWithProgress(
      'daprd: still building',
      'go',
      [
        'build',
        // A substituted dependency is not in go.sum: let this one build add it (checked against the proxy's checksum database).
        ...(substitutes.length > 0 ? ['-mod=mod'] : []),
        '-trimpath',
        '-ldflags',
        `-X github.com/dapr/dapr/pkg/buildinfo.version=${DAPR_VERSION.slice(1)}`,
        '-o',
        `${partial}/`,
        ...COMMANDS.map((name) => `./cmd/${name}`),
      ],
      { cwd: scratch, since: started },
    );
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir); // atomic: a concurrent run sees no build or a whole one
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(partial, { recursive: true, force: true });
  }
  log(`daprd: built daprd, placement and scheduler in ${dir} in ${elapsed(started)}`);
  return binaries;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const binaries = ensureDaprBinaries();
    const version = execFileSync(binaries.daprd, ['--version'], { encoding: 'utf8' }).trim();
    console.log(`daprd ${version} ready: ${binaries.daprd} (placement and scheduler beside it)`);
  } catch (error) {
    console.error(`dapr:install failed: ${error.message}`);
    process.exitCode = 1;
  }
}
