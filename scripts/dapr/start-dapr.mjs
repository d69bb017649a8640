// `npm run start:dapr [-- --app-protocol grpc]`: the built example app with a real daprd beside
// it, like `dapr run`, and placement and scheduler (for the example's actor and jobs), like
// `dapr init`. Builds them once if needed (scripts/dapr/install-daprd.mjs). Ctrl-C stops all.
//
// Environment (all optional): APP_API_TOKEN and DAPR_API_TOKEN (each generated when unset), APP_PORT (3000),
// APP_GRPC_PORT (50051), DAPR_HTTP_PORT (3500), DAPR_GRPC_PORT (50001), DAPR_APP_ID (orders),
// DAPRD_BIN (use this daprd instead of building one).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DAPR_RESOURCES_PATH, startDaprd, startPlacement, startScheduler } from './daprd-process.mjs';
import { ensureDaprBinaries } from './install-daprd.mjs';

const { values: flags } = parseArgs({ options: { 'app-protocol': { type: 'string', default: 'http' } } });
const appProtocol = flags['app-protocol'];
if (appProtocol !== 'http' && appProtocol !== 'grpc') {
  console.error(`--app-protocol must be http or grpc, got "${appProtocol}"`);
  process.exit(2);
}

function port(name, fallback) {
  const value = process.env[name];
  if (!value) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535) {
    console.error(`${name} must be a port number (1-65535), got "${value}"`);
    process.exit(2);
  }
  return parsed;
}

const appId = process.env.DAPR_APP_ID || 'orders';
const appPort = port('APP_PORT', 3000);
const appGrpcPort = port('APP_GRPC_PORT', 50051);
const daprHttpPort = port('DAPR_HTTP_PORT', 3500);
const daprGrpcPort = port('DAPR_GRPC_PORT', 50001);
const generated = !process.env.APP_API_TOKEN;
// Example only: one token for both processes, as `dapr run` gives both the same environment.
const token = process.env.APP_API_TOKEN || randomBytes(32).toString('base64url');
// daprd's own API requires this one of its clients (as `DAPR_API_TOKEN=... dapr run` does): the
// example's @DaprCallers route needs it, since without it any client of daprd could self-invoke
// the app with a forged caller id. The app gets it too, as `dapr run` and the Kubernetes injector give it.
const generatedApiToken = !process.env.DAPR_API_TOKEN;
const daprApiToken = process.env.DAPR_API_TOKEN || randomBytes(32).toString('base64url');

const prefixed = (prefix, stream) => (text) => {
  for (const line of text.split('\n')) if (line.trim()) stream.write(`${prefix} ${line}\n`);
};

const binaries = ensureDaprBinaries({ log: prefixed('==', process.stdout) });

const app = spawn(process.execPath, ['dist/main.js'], {
  env: {
    ...process.env,
    APP_API_TOKEN: token,
    DAPR_API_TOKEN: daprApiToken,
    DAPR_HTTP_PORT: String(daprHttpPort),
    APP_PORT: String(appPort),
    APP_GRPC_PORT: String(appGrpcPort),
    APP_HOST: '127.0.0.1',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
  // Own process groups for the app and daprd: Ctrl-C reaches only this script, which stops daprd
  // first and then the app, once each. (Both receiving the terminal's SIGINT and then our SIGTERM
  // made daprd end with "Received signal 'terminated' during shutdown" at level fatal.)
  detached: true,
});
let appOutput = '';
app.stdout.on('data', (chunk) => {
  appOutput += chunk;
  prefixed('== APP ==', process.stdout)(chunk.toString());
});
app.stderr.on('data', prefixed('== APP ==', process.stderr));
const appExited = new Promise((resolve) => app.on('exit', (code, signal) => resolve(code ?? signal)));

let daprd;
let controlPlane = [];
let stopping = false;
async function stop(exitCode) {
  if (stopping) return;
  stopping = true;
  await daprd?.stop();
  await Promise.all(controlPlane.map((service) => service.stop()));
  if (app.exitCode === null && app.signalCode === null) app.kill('SIGTERM');
  await appExited;
  process.exit(exitCode);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
appExited.then((code) => {
  if (!stopping) {
    console.error(`== the example app exited (${code}) ==`);
    void stop(1);
  }
});

const appUrl = `http://127.0.0.1:${appPort}`;
const deadline = Date.now() + 30000;
while (
  !(await fetch(`${appUrl}/healthz`).then(
    (response) => response.ok,
    () => false,
  ))
) {
  if (stopping) await new Promise(() => undefined); // stop() is exiting the process
  if (Date.now() > deadline) {
    console.error(`== the example app did not answer on ${appUrl}/healthz within 30 s ==\n${appOutput}`);
    await stop(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}

try {
  controlPlane = await Promise.all([
    startPlacement({ placementPath: binaries.placement, logLevel: 'warn', onOutput: prefixed('== PLACEMENT ==', process.stdout), detached: true }),
    startScheduler({ schedulerPath: binaries.scheduler, logLevel: 'warn', onOutput: prefixed('== SCHEDULER ==', process.stdout), detached: true }),
  ]);
} catch (error) {
  console.error(`== placement or scheduler did not start: ${error.message}`);
  await stop(1);
}
const [placement, scheduler] = controlPlane;

try {
  daprd = await startDaprd({
    daprdPath: binaries.daprd,
    placementAddress: placement.address,
    schedulerAddress: scheduler.address,
    appId,
    appPort: appProtocol === 'http' ? appPort : appGrpcPort,
    appProtocol,
    token,
    env: { DAPR_API_TOKEN: daprApiToken },
    httpPort: daprHttpPort,
    grpcPort: daprGrpcPort,
    logLevel: 'warn',
    onOutput: prefixed('== DAPRD ==', process.stdout),
    // Its internal gRPC port is picked free: taken before daprd binds it, daprd starts again with another.
    onRetry: ({ reason }) => console.log(`== daprd exited: ${reason}; starting it again with new ports (not DAPR_HTTP_PORT or DAPR_GRPC_PORT) ==`),
    detached: true,
  });
} catch (error) {
  console.error(`== daprd did not start: ${error.message}`);
  await stop(1);
}
daprd.exited.then((code) => {
  if (!stopping) {
    console.error(`== daprd exited (${code}) ==`);
    void stop(1);
  }
});

// A token the user set is never printed: the commands name the variable instead.
const apiTokenHeader = generatedApiToken ? `'dapr-api-token: ${daprApiToken}'` : '"dapr-api-token: $DAPR_API_TOKEN"';
console.log(`
== ready: daprd ${appId} -> the example app over ${appProtocol}, both with the same APP_API_TOKEN${generated ? ' (generated, below)' : ''}; daprd's API requires DAPR_API_TOKEN${generatedApiToken ? ' (generated, below)' : ''}
  app    HTTP ${appUrl}   gRPC 127.0.0.1:${appGrpcPort}   (daprd calls the ${appProtocol} one)
  daprd  HTTP ${daprd.httpUrl}   gRPC ${daprd.grpcAddress}   components: ${DAPR_RESOURCES_PATH}
  placement ${placement.address}   scheduler ${scheduler.address}
${generated ? `  APP_API_TOKEN=${token}\n` : ''}${generatedApiToken ? `  DAPR_API_TOKEN=${daprApiToken}\n` : ''}
Through daprd (your call carries DAPR_API_TOKEN for daprd's API; daprd adds APP_API_TOKEN for the app):
  curl -i -X POST ${daprd.httpUrl}/v1.0/invoke/${appId}/method/orders -H ${apiTokenHeader} -H 'content-type: application/json' -d '{"item":"tea","quantity":2}'
  curl -i -X POST ${daprd.httpUrl}/v1.0/publish/pubsub/orders -H ${apiTokenHeader} -H 'content-type: application/json' -d '{"item":"tea"}'
  curl -i -X PUT ${daprd.httpUrl}/v1.0/actors/OrderActor/42/method/addItem -H ${apiTokenHeader} -H 'content-type: application/json' -d '{"item":"tea"}'${
    appProtocol === 'http' ? '' : '   (actors: HTTP apps only)'
  }
  curl -i -X POST ${daprd.httpUrl}/v1.0-alpha1/jobs/restock -H ${apiTokenHeader} -H 'content-type: application/json' -d '{"dueTime":"2s","data":{}}'   (then POST /job/restock reaches the app)
Without DAPR_API_TOKEN daprd's API refuses (401), so no other client can invoke the app through it:
  curl -i -X POST ${daprd.httpUrl}/v1.0/invoke/${appId}/method/orders -H 'content-type: application/json' -d '{"item":"tea"}'
Straight to the app without the token (rejected):
  curl -i -X POST ${appUrl}/orders -H 'content-type: application/json' -d '{"item":"tea"}'
Ctrl-C stops all.`);
