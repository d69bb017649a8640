// Starts a real daprd in self-hosted mode on 127.0.0.1 (no mTLS), next to an app that is already
// listening, and the two control-plane services actors and jobs need: placement (where each actor
// lives) and scheduler (actor reminders and jobs). Used by the daprd suite (test/dapr) and
// `npm run start:dapr`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The in-memory pub/sub and the cron input binding the example app uses. */
export const DAPR_RESOURCES_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../../dapr/components');

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * `count` distinct free ports on 127.0.0.1: every listener stays open until all are chosen, so two
 * calls made back to back (etcd's peer port and scheduler's own, say) never get the same port.
 */
export async function freePorts(count) {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise((resolveServer, reject) => {
          const server = createServer();
          server.on('error', reject);
          server.listen(0, '127.0.0.1', () => resolveServer(server));
        }),
    ),
  );
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((resolveClose) => server.close(resolveClose))));
  return ports;
}

/** Control-plane start-up attempts when a port chosen here was taken before the service bound it. */
const CONTROL_PLANE_START_ATTEMPTS = 3;

const sleep = (ms) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/**
 * Spawns one Dapr binary and keeps its output. `stop()` sends SIGTERM, then SIGKILL after 5 s, and
 * resolves when the process is gone.
 */
function spawnDaprProcess(path, args, { env, detached = false, onOutput }) {
  const child = spawn(path, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached });
  let output = '';
  const collect = (chunk) => {
    output += chunk;
    onOutput?.(chunk.toString());
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exitCode;
  const exited = new Promise((resolveExit) =>
    child.on('exit', (code, signal) => {
      exitCode = code ?? signal;
      resolveExit(exitCode);
    }),
  );
  return {
    exited,
    exitCode: () => exitCode,
    logs: () => output,
    async stop() {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Resolves once `isReady()` is true; rejects with the process's output if it exits or the time runs out. */
async function pollUntil(proc, isReady, notReady, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isReady()) return;
    if (proc.exitCode() !== undefined) throw new Error(`${notReady}: it exited (${proc.exitCode()}):\n${proc.logs()}`);
    await sleep(100);
  }
  await proc.stop();
  throw new Error(`${notReady} within ${timeoutMs} ms:\n${proc.logs()}`);
}

/** Resolves once `url` answers `status`. */
function waitForHealth(name, proc, url, status, timeoutMs) {
  const answers = () =>
    fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.status === status,
      () => false, // not listening yet
    );
  return pollUntil(proc, answers, `${name} was not healthy`, timeoutMs);
}

/**
 * daprd's app health starts as unhealthy, and until its first probe succeeds it refuses every call
 * to the app with 500 "app is not in a healthy state" (pkg/apphealth and pkg/channel of
 * dapr/dapr). Resolves once daprd logs that the app is healthy.
 */
function waitForAppHealthy(proc, timeoutMs) {
  return pollUntil(
    proc,
    () => proc.logs().includes(APP_HEALTHY_LINE),
    'daprd did not report the app healthy (is it listening, and does it answer the health probe?)',
    timeoutMs,
  );
}

/** What daprd logs (at info level) when its probes find the app healthy. */
const APP_HEALTHY_LINE = 'App entered healthy status';

/** Environment for a Dapr process: this one's, without the tokens a developer may have exported. */
function daprEnvironment() {
  const env = { ...process.env };
  delete env.APP_API_TOKEN;
  delete env.DAPR_API_TOKEN;
  return env;
}

/** Starts placement or scheduler on 127.0.0.1 (gRPC and healthz), and resolves once healthz answers 200. */
async function startControlPlaneService(name, path, serviceArgs, { logLevel = 'info', timeoutMs = 30000, onOutput, detached = false }, [port, healthzPort]) {
  const args = [
    '--port',
    String(port),
    '--listen-address',
    '127.0.0.1',
    '--healthz-port',
    String(healthzPort),
    '--healthz-listen-address',
    '127.0.0.1',
    '--enable-metrics=false',
    '--log-level',
    logLevel,
    ...serviceArgs,
  ];
  const proc = spawnDaprProcess(path, args, { env: daprEnvironment(), detached, onOutput });
  await waitForHealth(name, proc, `http://127.0.0.1:${healthzPort}/healthz`, 200, timeoutMs);
  return { name, address: `127.0.0.1:${port}`, exited: proc.exited, logs: proc.logs, stop: proc.stop };
}

/** Starts placement (actor placement tables, an in-memory Raft of one) on 127.0.0.1, without TLS. */
export async function startPlacement({ placementPath, ...options }) {
  return retryOnBindFailure(async () => {
    const [raftPort, ...ports] = await freePorts(3);
    return startControlPlaneService('placement', placementPath, ['--initial-cluster', `dapr-placement-0=127.0.0.1:${raftPort}`], options, ports);
  });
}

/**
 * Starts a control-plane service again, with fresh ports, when it exited because one of the ports
 * chosen for it was taken in between (another process on a busy machine); any other failure at once.
 */
async function retryOnBindFailure(start) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= CONTROL_PLANE_START_ATTEMPTS || !/address already in use|could not listen on any endpoint/.test(String(error?.message))) throw error;
    }
  }
}

/**
 * Starts scheduler (actor reminders and jobs, with its embedded etcd in a temporary directory) on
 * 127.0.0.1, without TLS; `stop()` also removes the etcd data.
 */
export async function startScheduler({ schedulerPath, ...options }) {
  return retryOnBindFailure(() => startSchedulerOnce({ schedulerPath, ...options }));
}

async function startSchedulerOnce({ schedulerPath, ...options }) {
  const [etcdClientPort, etcdPeerPort, ...ports] = await freePorts(4);
  const dataDir = mkdtempSync(join(tmpdir(), 'dapr-scheduler-'));
  const removeData = () => rmSync(dataDir, { recursive: true, force: true });
  const etcdArgs = [
    '--etcd-data-dir',
    dataDir,
    '--etcd-client-port',
    String(etcdClientPort),
    '--etcd-client-listen-address',
    '127.0.0.1',
    '--etcd-initial-cluster',
    `dapr-scheduler-server-0=http://127.0.0.1:${etcdPeerPort}`,
  ];
  try {
    const scheduler = await startControlPlaneService('scheduler', schedulerPath, etcdArgs, { timeoutMs: 60000, ...options }, ports);
    return { ...scheduler, stop: () => scheduler.stop().then(removeData) };
  } catch (error) {
    removeData();
    throw error;
  }
}

/**
 * Starts daprd and resolves once its own health endpoint answers 204, which daprd only does after
 * it has found the app on its port and finished initialising, and (`awaitAppHealthy`) once its
 * probes found the app healthy: before that, daprd refuses every call to the app with a 500.
 * Rejects with daprd's output if it exits or is not healthy within `timeoutMs`.
 *
 * `token` becomes daprd's APP_API_TOKEN; undefined starts it without one. `placementAddress` and
 * `schedulerAddress` (from startPlacement / startScheduler) enable actors, reminders and jobs.
 *
 * A port picked free is free when it is picked, not necessarily when daprd binds it (seconds later,
 * after its components): another process can take it meanwhile, and daprd then exits with "failed
 * to start HTTP server: could not listen on any endpoint" (or the API / internal gRPC server's
 * equivalent). Only such an exit, on a port the harness picked, starts daprd again with new ports
 * (at most START_ATTEMPTS starts, each in `retries` of the result and passed to `onRetry`). A port
 * the caller gave (`httpPort`, `grpcPort`, or one in `extraArgs`) is never swapped for another:
 * that bind failure rejects at once, naming the port. Any other early exit rejects at once too.
 */
export async function startDaprd({ choosePort = freePort, onRetry, ...options }) {
  const retries = [];
  for (let attempt = 1; ; attempt++) {
    try {
      const daprd = await startDaprdOnce({ ...options, choosePort });
      return { ...daprd, retries };
    } catch (error) {
      const failure = error?.bindFailure;
      if (!failure) throw error;
      if (!failure.harnessChosen) {
        error.message = `daprd could not listen on ${describeListener(failure)}, which the caller chose (is another process using it?); not retried with other ports. ${error.message}`;
        throw error;
      }
      if (attempt >= START_ATTEMPTS) {
        error.message = `daprd could not listen on a port the harness picked, ${START_ATTEMPTS} starts in a row (last: ${describeListener(failure)}). ${error.message}`;
        throw error;
      }
      const retry = { attempt, listener: failure.listener, port: failure.port, reason: failure.reason, logs: failure.logs };
      retries.push(retry);
      onRetry?.(retry);
    }
  }
}

/** How many times startDaprd starts daprd at most when a port the harness picked is taken before daprd binds it. */
export const START_ATTEMPTS = 3;

/** The server each of daprd's fatal start-up errors names (pkg/runtime/runtime.go of dapr/dapr), and whose port it binds. */
const SERVER_PORTS = {
  'HTTP server': 'httpPort',
  'API gRPC server': 'grpcPort',
  'internal gRPC server': 'internalGrpcPort',
};

/** What daprd (pkg/api/http, pkg/api/grpc, Go's net package) says when it cannot bind an address. */
const BIND_FAILED = /could not listen on any endpoint|address already in use|bind: /;

/**
 * Whether daprd's output ends in a failure to bind one of its ports: read from the fatal line it
 * exits with ("Fatal error from runtime: failed to start HTTP server: could not listen on any
 * endpoint"), not from earlier lines (daprd only warns, and binds later, when it cannot reserve its
 * internal gRPC port early). `ports` maps each listener to its port and whether the harness chose it.
 * Undefined when daprd exited for anything else.
 */
function bindFailureIn(logs, ports) {
  const fatal = logs.split('\n').find((line) => /level=fatal|"level":"fatal"/.test(line));
  if (!fatal || !BIND_FAILED.test(fatal)) return undefined;
  const reason = (/msg="((?:[^"\\]|\\.)*)"/.exec(fatal) ?? /"msg":"((?:[^"\\]|\\.)*)"/.exec(fatal))?.[1] ?? fatal.trim();
  // The address, where daprd names it ("listen tcp 127.0.0.1:3500: bind: address already in use"),
  // else the server (HTTP's address is only logged at debug level; "… for profiling API" is another port).
  const boundPort = Number(/listen tcp \S*:(\d+)/.exec(fatal)?.[1]) || undefined;
  const server = /failed to start (HTTP server|API gRPC server|internal gRPC server): could not listen on any endpoint(?! for)/.exec(fatal)?.[1];
  const listener = boundPort ? Object.keys(ports).find((name) => ports[name].port === boundPort) : SERVER_PORTS[server];
  if (listener) return { listener, port: ports[listener].port, harnessChosen: ports[listener].harnessChosen, reason, logs };
  // A port the harness did not pick, or one daprd does not name: swapped only if the harness picked every port daprd binds.
  const harnessChosen = boundPort === undefined && Object.values(ports).every((entry) => entry.harnessChosen);
  return { listener: undefined, port: boundPort, harnessChosen, reason, logs };
}

/**
 * Starts daprd with exactly `args` and exactly `env` (nothing of this process's environment, not
 * even PATH): what a container spec gives it (test/dapr/kubernetes-pod.dapr-spec.ts runs the
 * Kubernetes injector's daprd container this way). Resolves, like startDaprd, once daprd's health
 * endpoint on `httpPort` (the `--dapr-http-port` in `args`) answers 204 and, with
 * `awaitAppHealthy`, once daprd logs that its probes found the app healthy (that needs
 * `--enable-app-health-check` and `--log-level info` in `args`). No port is picked or retried here.
 */
export async function startDaprdWithArgs({ daprdPath, args, env, httpPort, awaitAppHealthy = true, timeoutMs = 30000, onOutput }) {
  const proc = spawnDaprProcess(daprdPath, args, { env, onOutput });
  const deadline = Date.now() + timeoutMs;
  await waitForHealth('daprd', proc, `http://127.0.0.1:${httpPort}/v1.0/healthz`, 204, timeoutMs);
  if (awaitAppHealthy) await waitForAppHealthy(proc, Math.max(deadline - Date.now(), 1000));
  return { httpUrl: `http://127.0.0.1:${httpPort}`, exited: proc.exited, logs: proc.logs, stop: proc.stop };
}

function describeListener({ listener, port }) {
  if (listener) return `127.0.0.1:${port} (${listener})`;
  return port ? `127.0.0.1:${port}` : 'one of its ports';
}

async function startDaprdOnce({
  daprdPath,
  appId,
  appPort,
  appProtocol = 'http',
  token,
  healthCheckPath,
  resourcesPath = DAPR_RESOURCES_PATH,
  logLevel = 'info',
  extraArgs = [],
  timeoutMs = 30000,
  httpPort,
  grpcPort,
  onOutput,
  detached = false,
  env: extraEnv = {},
  placementAddress,
  schedulerAddress,
  awaitAppHealthy,
  choosePort,
}) {
  // daprd logs the healthy status at info level, and only with app health checks on.
  const healthVisible = healthCheckPath !== false && (logLevel === 'info' || logLevel === 'debug');
  awaitAppHealthy ??= healthVisible;
  if (awaitAppHealthy && !healthVisible) throw new Error('awaitAppHealthy needs app health checks on and logLevel info or debug');
  // The ports daprd binds, and which of them the harness picked (and may pick again after a bind
  // failure). A port flag in extraArgs (--dapr-public-port, --profile-port...) is one more the caller chose.
  const ports = {
    httpPort: { port: httpPort ?? (await choosePort()), harnessChosen: httpPort === undefined },
    grpcPort: { port: grpcPort ?? (await choosePort()), harnessChosen: grpcPort === undefined },
    internalGrpcPort: { port: await choosePort(), harnessChosen: true },
  };
  if (extraArgs.some((arg) => /^--[\w-]*-port\b/.test(arg))) ports.extraArgs = { port: undefined, harnessChosen: false };
  httpPort = ports.httpPort.port;
  grpcPort = ports.grpcPort.port;
  const internalGrpcPort = ports.internalGrpcPort.port;
  const args = [
    '--app-id',
    appId,
    '--app-port',
    String(appPort),
    '--app-protocol',
    appProtocol,
    '--app-channel-address',
    '127.0.0.1',
    '--dapr-listen-addresses',
    '127.0.0.1',
    '--dapr-http-port',
    String(httpPort),
    '--dapr-grpc-port',
    String(grpcPort),
    '--dapr-internal-grpc-port',
    String(internalGrpcPort),
    '--dapr-internal-grpc-listen-address',
    '127.0.0.1',
    '--enable-metrics=false',
    '--resources-path',
    resourcesPath,
    '--log-level',
    logLevel,
  ];
  if (healthCheckPath !== false) {
    args.push('--enable-app-health-check', '--app-health-probe-interval', '1', '--app-health-threshold', '1');
    if (appProtocol === 'http') args.push('--app-health-check-path', healthCheckPath ?? '/healthz');
  }
  if (placementAddress) args.push('--placement-host-address', placementAddress);
  if (schedulerAddress) args.push('--scheduler-host-address', schedulerAddress);
  args.push(...extraArgs);

  const env = daprEnvironment();
  if (token !== undefined) env.APP_API_TOKEN = token;
  Object.assign(env, extraEnv);

  const proc = spawnDaprProcess(daprdPath, args, { env, detached, onOutput });
  const daprd = {
    appId,
    httpPort,
    grpcPort,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    /** Resolves with the exit code (or signal) when daprd exits. */
    exited: proc.exited,
    /** Everything daprd printed so far. */
    logs: proc.logs,
    /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
    stop: proc.stop,
  };
  const deadline = Date.now() + timeoutMs;
  try {
    await waitForHealth('daprd', proc, `${daprd.httpUrl}/v1.0/healthz`, 204, timeoutMs);
    if (awaitAppHealthy) await waitForAppHealthy(proc, Math.max(deadline - Date.now(), 1000));
  } catch (error) {
    if (proc.exitCode() !== undefined) error.bindFailure = bindFailureIn(proc.logs(), ports);
    throw error;
  }
  return daprd;
}
