import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_CALLBACK_PROTO, DAPR_PROTO_LOADER_OPTIONS } from '../../src/dapr-protos.js';

export const STREAMING_PROTO = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/streaming.proto');

/** gRPC server options for Nest: Dapr's AppCallback services plus the test streaming service. */
export function grpcServerOptions(url: string) {
  return {
    package: ['dapr.proto.runtime.v1', 'test.streaming'],
    protoPath: [APP_CALLBACK_PROTO, STREAMING_PROTO],
    url,
    loader: DAPR_PROTO_LOADER_OPTIONS,
  };
}

type ClientCtor = new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client;

function loadClients(): Record<string, ClientCtor> {
  const definition = protoLoader.loadSync([APP_CALLBACK_PROTO, STREAMING_PROTO], DAPR_PROTO_LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    dapr: { proto: { runtime: { v1: Record<string, ClientCtor> } } };
    test: { streaming: Record<string, ClientCtor> };
  };
  return {
    AppCallback: loaded.dapr.proto.runtime.v1.AppCallback,
    AppCallbackHealthCheck: loaded.dapr.proto.runtime.v1.AppCallbackHealthCheck,
    AppCallbackAlpha: loaded.dapr.proto.runtime.v1.AppCallbackAlpha,
    Streaming: loaded.test.streaming.Streaming,
  };
}

let clients: Record<string, ClientCtor> | undefined;

/** A grpc-js client of `service` on `address`; close it with `.close()`. */
export function grpcClient(service: 'AppCallback' | 'AppCallbackHealthCheck' | 'AppCallbackAlpha' | 'Streaming', address: string): any {
  clients ??= loadClients();
  return new clients[service](address, grpc.credentials.createInsecure());
}

/** Metadata carrying the given `dapr-api-token` values (none for `[]`). */
export function tokenMetadata(...tokens: string[]): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const token of tokens) metadata.add('dapr-api-token', token);
  return metadata;
}

/** The outcome of one call: the status code (0 = OK), its details, and what came back. */
export interface CallOutcome {
  code: number;
  details: string;
  response?: unknown;
  messages?: unknown[];
}

const DEADLINE_MS = 3000;
const deadline = () => new Date(Date.now() + DEADLINE_MS);

export function callUnary(client: any, method: string, request: unknown, metadata: grpc.Metadata): Promise<CallOutcome> {
  return new Promise((resolve) => {
    client[method](request, metadata, { deadline: deadline() }, (error: grpc.ServiceError | null, response: unknown) => {
      resolve(error ? { code: error.code, details: error.details } : { code: 0, details: '', response });
    });
  });
}

/** Reads a server (or duplex) stream to its end; `send` messages are written first for duplex calls. */
export function callStream(client: any, method: string, metadata: grpc.Metadata, options: { request?: unknown; send?: unknown[] } = {}): Promise<CallOutcome> {
  return new Promise((resolve) => {
    const call =
      options.request !== undefined ? client[method](options.request, metadata, { deadline: deadline() }) : client[method](metadata, { deadline: deadline() });
    const messages: unknown[] = [];
    call.on('data', (message: unknown) => messages.push(message));
    call.on('error', () => undefined); // the status event carries the outcome
    call.on('status', (status: grpc.StatusObject) => resolve({ code: status.code, details: status.details, messages }));
    if (options.send) {
      for (const message of options.send) call.write(message);
      call.end();
    }
  });
}

/** A client-streaming call: writes `send`, ends, waits for the single response. */
export function callClientStream(client: any, method: string, metadata: grpc.Metadata, send: unknown[]): Promise<CallOutcome> {
  return new Promise((resolve) => {
    const call = client[method](metadata, { deadline: deadline() }, (error: grpc.ServiceError | null, response: unknown) => {
      resolve(error ? { code: error.code, details: error.details } : { code: 0, details: '', response });
    });
    call.on('error', () => undefined);
    for (const message of send) call.write(message);
    call.end();
  });
}

export { grpc };
