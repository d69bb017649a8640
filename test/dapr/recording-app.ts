import { createServer, type IncomingMessage, type Server } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { APP_CALLBACK_PROTO, DAPR_PROTO_LOADER_OPTIONS } from '../../src/dapr-protos.js';
import { STREAMING_PROTO } from '../support/grpc.js';

/**
 * A plain app (no Nest, no guard) that records what daprd delivers to it, to measure daprd itself:
 * which identity headers / metadata reach the app, with their letter case and how many times.
 */

/** Identity headers and metadata daprd stamps on service invocation (pkg/messaging/v1/util.go). */
export const IDENTITY_KEYS = ['dapr-caller-app-id', 'dapr-caller-namespace', 'dapr-callee-app-id'] as const;

/** One delivery as the app saw it. */
export interface Delivery {
  /** `POST /echo`, `OnInvoke echo`, `OnTopicEvent identity`, `Streaming/Unary`... */
  target: string;
  /** Every identity header / metadata entry, name as received (HTTP keeps its case), in order. */
  identity: Array<[name: string, value: string]>;
  /** Whether dapr-api-token came with it. */
  withToken: boolean;
  /** A marker the caller put in the payload or the method name, to find this delivery again. */
  marker: string;
}

function identityOfRawHeaders(raw: string[]): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((IDENTITY_KEYS as readonly string[]).includes(raw[i].toLowerCase())) found.push([raw[i], raw[i + 1]]);
  }
  return found;
}

function identityOfMetadata(metadata: grpc.Metadata): Array<[string, string]> {
  return IDENTITY_KEYS.flatMap((key) => metadata.get(key).map((value) => [key, String(value)] as [string, string]));
}

/** The HTTP app: records every request; answers daprd's start-up calls (one subscription). */
export async function startRecordingHttpApp(port: number): Promise<{ deliveries: Delivery[]; close: () => Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = request.url ?? '';
      deliveries.push({
        target: `${request.method} ${url.split('?')[0]}`,
        identity: identityOfRawHeaders(request.rawHeaders),
        withToken: request.headers['dapr-api-token'] !== undefined,
        marker: /marker-[\w-]+/.exec(`${url} ${body}`)?.[0] ?? '',
      });
      response.setHeader('content-type', 'application/json');
      if (url === '/dapr/subscribe') response.end(JSON.stringify([{ pubsubname: 'pubsub', topic: 'identity', route: '/events' }]));
      else if (url === '/dapr/config') response.end('{}');
      else response.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { deliveries, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * The gRPC app: Dapr's AppCallback services, plus test.streaming.Streaming for proxied calls.
 * `failedHealthChecks`: how many health probes, the first ones, are answered UNAVAILABLE.
 */
export async function startRecordingGrpcApp(
  port: number,
  { failedHealthChecks = 0 }: { failedHealthChecks?: number } = {},
): Promise<{ deliveries: Delivery[]; close: () => Promise<void> }> {
  const deliveries: Delivery[] = [];
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync([APP_CALLBACK_PROTO, STREAMING_PROTO], DAPR_PROTO_LOADER_OPTIONS)) as any;
  const v1 = loaded.dapr.proto.runtime.v1;
  const record = (target: string, call: { metadata: grpc.Metadata }, marker: string) =>
    deliveries.push({ target, identity: identityOfMetadata(call.metadata), withToken: call.metadata.get('dapr-api-token').length > 0, marker });
  const markerIn = (value: unknown) =>
    /marker-[\w-]+/.exec(typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : JSON.stringify(value ?? ''))?.[0] ?? '';
  const server = new grpc.Server();
  server.addService(v1.AppCallback.service, {
    OnInvoke: (call: any, callback: any) => {
      record(`OnInvoke ${call.request.method}`, call, markerIn(call.request.method));
      callback(null, { contentType: 'application/json', data: { typeUrl: '', value: Buffer.from('{"ok":true}') } });
    },
    ListTopicSubscriptions: (call: any, callback: any) => {
      record('ListTopicSubscriptions', call, '');
      callback(null, { subscriptions: [{ pubsubName: 'pubsub', topic: 'identity' }] });
    },
    ListInputBindings: (call: any, callback: any) => {
      record('ListInputBindings', call, '');
      callback(null, { bindings: ['cron'] });
    },
    OnTopicEvent: (call: any, callback: any) => {
      record(`OnTopicEvent ${call.request.topic}`, call, markerIn(call.request.data));
      callback(null, { status: 'SUCCESS' });
    },
    OnBindingEvent: (call: any, callback: any) => {
      record(`OnBindingEvent ${call.request.name}`, call, '');
      callback(null, {});
    },
  });
  server.addService(v1.AppCallbackHealthCheck.service, {
    HealthCheck: (call: any, callback: any) => {
      record('HealthCheck', call, '');
      if (failedHealthChecks-- > 0) callback({ code: grpc.status.UNAVAILABLE, details: 'not ready yet' });
      else callback(null, {});
    },
  });
  server.addService(loaded.test.streaming.Streaming.service, {
    Unary: (call: any, callback: any) => {
      record('Streaming/Unary', call, markerIn(call.request.text));
      callback(null, { text: 'ok' });
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())),
  );
  // tryShutdown waits for every open call; a connection daprd left behind must not hold a test up.
  const close = () =>
    new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2000);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  return { deliveries, close };
}
