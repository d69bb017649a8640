import { randomBytes } from 'node:crypto';
import { DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, DEFAULT_METRICS_PORT, startExampleApp } from './bootstrap.js';

function port(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535) {
    throw new Error(`${name} must be a port number (1-65535), got "${value}"`);
  }
  return parsed;
}

// Example only: so that `npm start` works on a fresh machine, invent a one-time token when none
// is set. The library never does this: without a token it refuses to start.
let demoToken: string | undefined;
if (!process.env.APP_API_TOKEN && !process.env.APP_API_TOKEN_FILE && !process.env.JWT_ALGORITHMS) {
  demoToken = randomBytes(32).toString('base64url');
  process.env.APP_API_TOKEN = demoToken;
}

// Example only, the same way: with nothing set there is no daprd in front, so the @DaprCallers
// route starts without DAPR_API_TOKEN (the library refuses that unless told; see the README).
const demoCallers = demoToken !== undefined && !process.env.DAPR_API_TOKEN && process.env.DAPR_AUTH_ALLOW_FORGEABLE_CALLERS === undefined;
if (demoCallers) process.env.DAPR_AUTH_ALLOW_FORGEABLE_CALLERS = 'true';

const host = process.env.APP_HOST ?? '127.0.0.1';
const { httpUrl, grpcAddress, metricsUrl } = await startExampleApp({
  host,
  httpPort: port('APP_PORT', DEFAULT_HTTP_PORT),
  grpcPort: port('APP_GRPC_PORT', DEFAULT_GRPC_PORT),
  // METRICS_PORT=off: no metrics endpoint.
  metricsPort: process.env.METRICS_PORT === 'off' ? false : port('METRICS_PORT', DEFAULT_METRICS_PORT),
});

console.log(`\nExample Dapr app listening:
  HTTP  ${httpUrl}    (dapr run --app-protocol http --app-port ${new URL(httpUrl).port})
  gRPC  ${grpcAddress}  (dapr run --app-protocol grpc --app-port ${grpcAddress.split(':').pop()})${
    metricsUrl ? `\n  metrics ${metricsUrl}  (Prometheus format: curl ${metricsUrl})` : ''
  }`);
if (demoToken) {
  console.log(`
APP_API_TOKEN was not set, so this demo generated a one-time token:
  ${demoToken}
Try it:
  curl -i -X POST ${httpUrl}/orders -H 'dapr-api-token: ${demoToken}' -H 'content-type: application/json' -d '{"item":"tea","quantity":2}'
  curl -i -X POST ${httpUrl}/orders -H 'content-type: application/json' -d '{"item":"tea"}'     # 401
  curl -i ${httpUrl}/healthz                                                                      # exempt: daprd probes it without a token
Set APP_API_TOKEN (the same value daprd gets) to use your own.`);
}
