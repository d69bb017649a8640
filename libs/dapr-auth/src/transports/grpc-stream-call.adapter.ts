import { DAPR_API_TOKEN_HEADER } from '../dapr-auth.constants.js';
import type { ExecutionContext } from '@nestjs/common';
import type { PresentedCaller, PresentedToken, RejectionKind } from '../pipeline.types.js';
import {
  grpcMethodPath,
  isGrpcCall,
  isTokenlessDaprGrpcCall,
  readTokenMetadata,
  readCallerMetadata,
  rejectionStatus,
  type GrpcCallLike,
  type GrpcMetadataLike,
} from './grpc-call.js';
import { NEST_EXCEPTION_FILTERS_METADATA } from '../dapr-auth.constants.js';
import { withoutStackTrace } from './stackless.js';
import { STREAM_CALL_REJECTION_FILTER, StreamCallRejection } from './stream-call-rejection.js';
import type { TransportAdapter } from './transport-adapter.js';

type UnaryCallback = (error: unknown, value?: unknown) => void;

/**
 * `@GrpcStreamCall` handlers, whose arguments are `[call]` (duplex) or `[call, callback]`
 * (client streaming); the metadata is on the call. Nest's error path never reaches such a client
 * (it waits until its deadline) and ends in an unhandled promise rejection, which would crash the
 * process. So the rejection is sent on the call itself, and then:
 * - on a handler carrying {@link StreamCallRejectionFilter} (start-up puts it on every
 *   `@GrpcStreamCall` handler of the app), a {@link StreamCallRejection} is thrown, which that
 *   filter turns into a completed call: the handler never runs and Nest's processing hooks end;
 * - elsewhere (a handler start-up did not see), the guard's answer is a promise that never
 *   settles: the handler never runs and no error is raised, but Nest's end hook never runs.
 */
export class GrpcStreamCallTransportAdapter implements TransportAdapter {
  readonly transport = 'gRPC';

  /** @param tokenHeader the metadata key of the token (option `tokenHeader`). */
  constructor(private readonly tokenHeader: string = DAPR_API_TOKEN_HEADER) {}

  supports(context: ExecutionContext): boolean {
    return context.getType() === 'rpc' && isGrpcCall(context.getArgByIndex(0));
  }

  isTokenlessDaprCall(context: ExecutionContext): boolean {
    return isTokenlessDaprGrpcCall(context.getArgByIndex(0));
  }

  extractToken(context: ExecutionContext): PresentedToken {
    return readTokenMetadata(context.getArgByIndex<{ metadata: GrpcMetadataLike }>(0).metadata, this.tokenHeader);
  }

  describeTarget(context: ExecutionContext): string {
    return grpcMethodPath(context.getArgByIndex(0));
  }

  readCaller(context: ExecutionContext): PresentedCaller {
    const call = context.getArgByIndex<{ metadata: GrpcMetadataLike }>(0);
    return readCallerMetadata(call.metadata);
  }

  reject(context: ExecutionContext, kind: RejectionKind): Error | Promise<boolean> {
    const callback = context.getArgByIndex<UnaryCallback | undefined>(1);
    if (typeof callback === 'function') {
      callback(rejectionStatus(kind), null);
    } else {
      context.getArgByIndex<GrpcCallLike>(0).emit?.('error', rejectionStatus(kind));
    }
    if (hasRejectionFilter(context.getHandler())) return withoutStackTrace(() => new StreamCallRejection());
    // A new promise each time: one shared pending promise would keep every waiter alive.
    return new Promise<boolean>(() => undefined);
  }
}

function hasRejectionFilter(handler: object): boolean {
  const filters = Reflect.getMetadata(NEST_EXCEPTION_FILTERS_METADATA, handler) as unknown[] | undefined;
  return filters?.includes(STREAM_CALL_REJECTION_FILTER) ?? false;
}
