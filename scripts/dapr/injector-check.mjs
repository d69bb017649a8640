// The Kubernetes check: what the Dapr sidecar injector makes of deploy/kubernetes, from Dapr's and
// kustomize's own code (no cluster runs here; the code that decides what a pod looks like can).
//
//   node scripts/dapr/injector-check.mjs [DIR]    (npm run k8s:check [-- DIR]; DIR: deploy/kubernetes)
//
// renders every kustomize overlay under DIR, sends each workload's pod to the injector webhook of
// the Dapr release the daprd suite runs, and checks the injected pods' wiring
// (scripts/dapr/kubernetes-wiring.mjs): which container gets which token from which Secret, ports,
// the health probe path, listen addresses. Prints one line per pod, or each problem naming the
// annotation, Secret or variable to fix; exits 1 on a problem. `--json` prints the injector's report.
//
// How: dapr/injector/main.go.in is a Go program built inside a copy of github.com/dapr/dapr (like
// daprd, scripts/dapr/install-daprd.mjs, and for the same reason: the module's go.mod has `replace`
// lines and its go.sum pins every dependency), with dapr/injector/webhook.go.in placed next to the
// injector's webhook code. kustomize comes from the same go.mod (sigs.k8s.io/kustomize/api, which
// dapr/dapr already requires). The binary is cached beside daprd, keyed by the release and a hash of
// the two Go files; the first build takes about 15 s after daprd's (shared Go build cache) and about
// 3 minutes from an empty one.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, DEFAULT_DAPR_VERSION, isExecutable } from './install-daprd.mjs';
import { wiringProblems } from './kubernetes-wiring.mjs';

/**
 * The release whose injector is run: the daprd suite's default. Not `$DAPRD_VERSION`: the docs'
 * statements about the injector are about this release, and webhook.go.in reads its internals.
 */
export const INJECTOR_DAPR_VERSION = DEFAULT_DAPR_VERSION;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The manifests users apply. */
export const KUBERNETES_DIR = join(repoRoot, 'deploy/kubernetes');
const goSources = {
  main: join(repoRoot, 'dapr/injector/main.go.in'),
  webhook: join(repoRoot, 'dapr/injector/webhook.go.in'),
};
const COMMAND = 'injector-check';

/** The cached build's directory, keyed by the release and the Go sources. */
export function cachedInjectorCheckDir() {
  const hash = createHash('sha256');
  for (const file of Object.values(goSources)) hash.update(readFileSync(file));
  return join(cacheDir(), `injector-check-${INJECTOR_DAPR_VERSION}-${hash.digest('hex').slice(0, 12)}`);
}

/** Returns the path of the check's program, building it first when it is not cached. */
export function ensureInjectorCheck({ log = (line) => console.error(line) } = {}) {
  const dir = cachedInjectorCheckDir();
  const binary = join(dir, COMMAND);
  if (isExecutable(binary)) return binary;

  const started = Date.now();
  const since = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  log(`injector-check: building the Kubernetes check against github.com/dapr/dapr@${INJECTOR_DAPR_VERSION} (injector webhook + kustomize)`);
  const download = JSON.parse(
    execFileSync('go', ['mod', 'download', '-json', `github.com/dapr/dapr@${INJECTOR_DAPR_VERSION}`], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }),
  );
  if (download.Error) throw new Error(`go mod download github.com/dapr/dapr@${INJECTOR_DAPR_VERSION} failed: ${download.Error}`);

  const scratch = join(cacheDir(), `injector-check-build-${process.pid}`);
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    cpSync(download.Dir, scratch, { recursive: true });
    execFileSync('chmod', ['-R', 'u+w', scratch]); // the module cache is read-only
    mkdirSync(join(scratch, 'cmd', COMMAND));
    cpSync(goSources.main, join(scratch, 'cmd', COMMAND, 'main.go'));
    cpSync(goSources.webhook, join(scratch, 'pkg/injector/service/zz_injector_check.go'));
    // The same flags as daprd's build (install-daprd.mjs): the Go build cache it filled is reused.
    const build = spawnSync(
      'go',
      ['build', '-trimpath', '-ldflags', `-X main.daprVersion=${INJECTOR_DAPR_VERSION}`, '-o', join(partial, COMMAND), `./cmd/${COMMAND}`],
      { cwd: scratch, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] },
    );
    if (build.status !== 0) throw new Error(`go build ./cmd/${COMMAND} failed (exit ${build.status ?? build.signal}):\n${build.stderr}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir); // atomic: a concurrent run sees no build or a whole one
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(partial, { recursive: true, force: true });
  }
  log(`injector-check: built ${binary} in ${since()}`);
  return binary;
}

/** Every kustomization directory under `dir` (base included: it renders no workload). */
export function kubernetesOverlays(dir = KUBERNETES_DIR) {
  const found = [];
  const visit = (current) => {
    const entries = readdirSync(current, { withFileTypes: true });
    if (entries.some((entry) => entry.isFile() && ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].includes(entry.name))) found.push(current);
    for (const entry of entries) if (entry.isDirectory()) visit(join(current, entry.name));
  };
  visit(dir);
  return found.sort();
}

/**
 * Renders and injects `overlays` (directories under `root`, which is copied into memory, token
 * files replaced by placeholders). `exitCode` is 0, or 1 when an overlay did not render or the
 * injector refused a pod (the report says which).
 */
export function runInjectorCheck(overlays, { root = KUBERNETES_DIR, binary = ensureInjectorCheck() } = {}) {
  const result = spawnSync(binary, ['-root', root, ...overlays], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0 && result.status !== 1) throw new Error(`${COMMAND} failed (exit ${result.status ?? result.signal}): ${result.stderr.trim()}`);
  return { exitCode: result.status, report: JSON.parse(result.stdout), stderr: result.stderr };
}

/** Runs the whole check on `dir` and returns the lines to print and whether it passed. */
export function checkKubernetesManifests(dir = KUBERNETES_DIR, options = {}) {
  const root = resolve(dir);
  const { report } = runInjectorCheck(kubernetesOverlays(root), { root });
  const lines = [`Dapr ${report.daprVersion} sidecar injector, ${report.kustomize}, on ${relative(process.cwd(), root) || '.'}:`];
  let passed = true;
  for (const overlay of report.overlays) {
    const name = relative(root, overlay.overlay) || '.';
    const problems = wiringProblems(overlay, options);
    if (problems.length > 0) passed = false;
    if (overlay.workloads.length === 0 && problems.length === 0)
      lines.push(`  ${name}: no workload (${overlay.secrets.map((secret) => `Secret ${secret.name}`).join(', ') || 'nothing'})`);
    for (const workload of overlay.workloads) {
      const own = problems.filter((problem) => problem.workload === `${workload.kind} ${workload.name}`);
      lines.push(`  ${name}: ${workload.kind} ${workload.name}: ${own.length === 0 ? 'ok' : `${own.length} problem(s)`}`);
      for (const problem of own) lines.push(`    - [${problem.subject}] ${problem.message}`);
    }
    for (const problem of problems.filter((candidate) => candidate.workload === undefined)) lines.push(`  ${name}: [${problem.subject}] ${problem.message}`);
  }
  return { passed, lines, report };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const dir = args.find((arg) => !arg.startsWith('--')) ?? KUBERNETES_DIR;
  try {
    if (!existsSync(dir)) throw new Error(`${dir}: no such directory`);
    const { passed, lines, report } = checkKubernetesManifests(dir);
    console.log(json ? JSON.stringify(report, null, 2) : lines.join('\n'));
    if (!passed) process.exitCode = 1;
  } catch (error) {
    console.error(`k8s:check failed: ${error.message}`);
    process.exitCode = 2;
  }
}
