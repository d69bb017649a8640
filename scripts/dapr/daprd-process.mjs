// Starts a real daprd in self-hosted mode on 127.0.0.1 (no placement, scheduler or mTLS), next to
// an app that is already listening. Used by the daprd suite (test/dapr) and `npm run start:dapr`.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
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

const sleep = (ms) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/**
 * Starts daprd and resolves once its own health endpoint answers 204, which daprd only does after
 * it has found the app on its port and finished initialising. Rejects with daprd's output if it
 * exits or is not healthy within `timeoutMs`.
 *
 * `token` becomes daprd's APP_API_TOKEN; undefined starts it without one.
 */
export async function startDaprd({
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
}) {
  httpPort ??= await freePort();
  grpcPort ??= await freePort();
  const internalGrpcPort = await freePort();
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
  args.push(...extraArgs);

  const env = { ...process.env };
  delete env.APP_API_TOKEN;
  delete env.DAPR_API_TOKEN;
  if (token !== undefined) env.APP_API_TOKEN = token;
  Object.assign(env, extraEnv);

  const child = spawn(daprdPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached });
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

  const daprd = {
    appId,
    httpPort,
    grpcPort,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    /** Resolves with the exit code (or signal) when daprd exits. */
    exited,
    /** Everything daprd printed so far. */
    logs: () => output,
    /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
    async stop() {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`daprd exited (${exitCode}) before it was ready:\n${output}`);
    try {
      const response = await fetch(`${daprd.httpUrl}/v1.0/healthz`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 204) return daprd;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await daprd.stop();
  throw new Error(`daprd was not healthy within ${timeoutMs} ms:\n${output}`);
}
