import type { Logger } from '@nestjs/common';
import { importOptional } from '../optional-import.js';
import type { TokenExtractor } from '../pipeline.types.js';
import { FallbackTransportAdapter } from './fallback.adapter.js';
import { GrpcStreamCallTransportAdapter } from './grpc-stream-call.adapter.js';
import { GraphqlTransportAdapter } from './graphql.adapter.js';
import { GrpcTransportAdapter, type RpcExceptionClass } from './grpc.adapter.js';
import { HttpTransportAdapter } from './http.adapter.js';
import type { TransportAdapter } from './transport-adapter.js';

/** `RpcException` from the app's `@nestjs/microservices`, or `undefined` for an HTTP-only app. */
async function loadRpcException(): Promise<RpcExceptionClass | undefined> {
  try {
    const microservices = await importOptional<typeof import('@nestjs/microservices')>('@nestjs/microservices');
    // From CommonJS (Nest 11) the named export may only be on the namespace's default.
    return microservices.RpcException ?? (microservices as { default?: typeof microservices }).default?.RpcException;
  } catch {
    return undefined; // not installed: no gRPC server can exist either
  }
}

/** What the adapters need of the module's options (typed here, so transports need nothing above them). */
export interface TransportAdapterOptions {
  /** The header / metadata key of the token (option `tokenHeader`, default `dapr-api-token`). */
  readonly tokenHeader: string;
  readonly extractToken: TokenExtractor | undefined;
}

/** The adapters in the order they are asked; the fallback comes last and accepts anything. */
export async function createTransportAdapters(options: TransportAdapterOptions, logger: Logger): Promise<readonly TransportAdapter[]> {
  const RpcException = await loadRpcException();
  return Object.freeze([
    new HttpTransportAdapter(options.tokenHeader),
    ...(RpcException ? [new GrpcTransportAdapter(RpcException, options.tokenHeader), new GrpcStreamCallTransportAdapter(options.tokenHeader)] : []),
    new GraphqlTransportAdapter(options.tokenHeader, logger),
    new FallbackTransportAdapter(options.extractToken, logger),
  ]);
}
