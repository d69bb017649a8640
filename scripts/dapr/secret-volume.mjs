// The kubelet's own Secret volume writer, for the daprd suite: a Go program
// (dapr/kubelet-volume/main.go.in) that writes a directory exactly as the kubelet writes a Secret
// volume, with Kubernetes' own code: the Secret volume plugin's MakePayload
// (k8s.io/kubernetes/pkg/volume/secret) and the AtomicWriter (k8s.io/kubernetes/pkg/volume/util),
// driven from the tests one request per line on stdin.
//
//   node scripts/dapr/secret-volume.mjs     builds it if it is not cached and prints its path
//
// How: the program is its own Go module (dapr/kubelet-volume/go.mod.in and go.sum.in), requiring
// k8s.io/kubernetes at the version of the client-go dapr/dapr v1.18.2 builds with (v1.32.3).
// k8s.io/kubernetes is not designed to be required as a module: its go.mod requires its staging
// modules (k8s.io/api, k8s.io/client-go, ...) at v0.0.0 and replaces them with relative paths inside
// its own repository, which a dependency's replace lines cannot do (Go ignores them), so
// `go get k8s.io/kubernetes@v1.32.3` alone ends in "k8s.io/api@v0.0.0: reading
// https://proxy.golang.org/k8s.io/api/@v/v0.0.0.zip: 403 Forbidden". go.mod.in replaces each
// staging module with its published release (v0.32.3); go.sum.in pins every dependency and the
// build runs with -mod=readonly. The files are copied to a scratch directory and built there; the
// binary is cached beside daprd, keyed by the Kubernetes version and a hash of the three files.
// Measured on the project's 2-core machines: 182 s from an empty Go build cache (with the
// module sources downloaded), 3 to 5 s with it warm.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cacheDir, isExecutable } from './install-daprd.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The Go module's files: copied to main.go, go.mod and go.sum of a scratch directory. */
const goSources = {
  'main.go': join(repoRoot, 'dapr/kubelet-volume/main.go.in'),
  'go.mod': join(repoRoot, 'dapr/kubelet-volume/go.mod.in'),
  'go.sum': join(repoRoot, 'dapr/kubelet-volume/go.sum.in'),
};
const COMMAND = 'secret-volume';

/** The k8s.io/kubernetes release the writer is built from (go.mod.in), e.g. "v1.32.3". */
export const KUBERNETES_VERSION = /^\s*k8s\.io\/kubernetes (v\S+)$/m.exec(readFileSync(goSources['go.mod'], 'utf8'))[1];

/** The cached build's directory, keyed by the Kubernetes release and the Go module's files. */
export function cachedSecretVolumeDir() {
  const hash = createHash('sha256');
  for (const file of Object.values(goSources)) hash.update(readFileSync(file));
  return join(cacheDir(), `${COMMAND}-${KUBERNETES_VERSION}-${hash.digest('hex').slice(0, 12)}`);
}

/** Returns the path of the writer's program, building it first when it is not cached. */
export function ensureSecretVolumeWriter({ log = (line) => console.error(line) } = {}) {
  const dir = cachedSecretVolumeDir();
  const binary = join(dir, COMMAND);
  if (isExecutable(binary)) return binary;

  const started = Date.now();
  log(`secret-volume: building the kubelet's Secret volume writer from k8s.io/kubernetes@${KUBERNETES_VERSION} (about 3 minutes from an empty Go build cache)`);
  const scratch = join(cacheDir(), `${COMMAND}-build-${process.pid}`);
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  mkdirSync(partial, { recursive: true });
  try {
    for (const [name, source] of Object.entries(goSources)) cpSync(source, join(scratch, name));
    // -mod=readonly: go.sum.in must already pin everything; the build never edits the module files.
    const build = spawnSync('go', ['build', '-mod=readonly', '-trimpath', '-o', join(partial, COMMAND), '.'], {
      cwd: scratch,
      encoding: 'utf8',
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    if (build.error) throw new Error(`go build failed to start: ${build.error.message} (Go 1.26.5 or later is needed)`);
    if (build.status !== 0) throw new Error(`go build of ${COMMAND} failed (exit ${build.status ?? build.signal}):\n${build.stderr}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir); // atomic: a concurrent run sees no build or a whole one
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(partial, { recursive: true, force: true });
  }
  log(`secret-volume: built ${binary} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return binary;
}

/** The Kubernetes module version built into `binary` ("k8s.io/kubernetes v1.32.3"). */
export function secretVolumeWriterVersion(binary = ensureSecretVolumeWriter()) {
  return execFileSync(binary, ['-version'], { encoding: 'utf8' }).trim();
}

/**
 * Starts the writer on `dir` (which must exist). `write(data, volume)` writes the Secret whose keys
 * and values are `data` as the kubelet writes a volume `volume` (a v1 SecretVolumeSource:
 * `items`, `defaultMode`, `optional`; defaulted as the API server does) and resolves with the
 * timestamped directory `..data` then points to and the paths written; requests are answered in
 * order. `close()` ends the program. Values go over stdin only; nothing the program prints holds one.
 */
export function startSecretVolumeWriter(dir, { binary = ensureSecretVolumeWriter() } = {}) {
  const child = spawn(binary, [dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const pending = [];
  let exitCode;
  const exited = new Promise((resolveExit) =>
    child.on('exit', (code, signal) => {
      exitCode = code ?? signal;
      for (const request of pending.splice(0)) request.reject(new Error(`${COMMAND} exited (${exitCode}): ${stderr.trim()}`));
      resolveExit(exitCode);
    }),
  );
  createInterface({ input: child.stdout }).on('line', (line) => {
    const request = pending.shift();
    if (!request) return;
    let answer;
    try {
      answer = JSON.parse(line);
    } catch {
      request.reject(new Error(`${COMMAND} answered something unreadable`));
      return;
    }
    if (answer.error) request.reject(new Error(`${COMMAND}: ${answer.error}`));
    else request.resolve({ dataDir: answer.dataDir, files: answer.files ?? [] });
  });
  return {
    dir,
    exited,
    write(data, volume = {}) {
      if (exitCode !== undefined) return Promise.reject(new Error(`${COMMAND} exited (${exitCode}): ${stderr.trim()}`));
      const secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: volume.secretName ?? 'secret' },
        // As the API serves a Secret: each value base64-encoded.
        data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
      };
      return new Promise((resolveWrite, reject) => {
        pending.push({ resolve: resolveWrite, reject });
        child.stdin.write(`${JSON.stringify({ secret, volume })}\n`);
      });
    },
    async close() {
      if (exitCode === undefined) child.stdin.end();
      await exited;
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const binary = ensureSecretVolumeWriter();
    console.log(`${secretVolumeWriterVersion(binary)} Secret volume writer ready: ${binary}`);
  } catch (error) {
    console.error(`secret-volume: ${error.message}`);
    process.exitCode = 1;
  }
}
