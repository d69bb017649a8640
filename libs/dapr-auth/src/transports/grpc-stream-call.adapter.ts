import type { ExecutionContext } from '@nestjs/common';
import type { PresentedToken } from '../dapr-auth.options.js';
import { grpcMethodPath, isGrpcCall, isTokenlessDaprGrpcCall, readTokenMetadata, unauthenticatedStatus, type GrpcCallLike, type GrpcMetadataLike } from './grpc-call.js';
import type { TransportAdapter } from './transport-adapter.js';

type UnaryCallback = (error: unknown, value?: unknown) => void;

/**
 * `@GrpcStreamCall` handlers, whose arguments are `[call]` (duplex) or `[call, callback]`
 * (client streaming); the metadata is on the call. Nest's error path never reaches such a client
 * (it waits until its deadline) and ends in an unhandled promise rejection, which would crash the
 * process. So the rejection is sent on the call itself, and the guard's answer is a promise that
 * never settles: the handler never runs, no error is raised, and as nothing refers to the
 * pending chain it is garbage-collected with the call.
 */
export class GrpcStreamCallTransportAdapter implements TransportAdapter {
  readonly transport = 'gRPC';

  supports(context: ExecutionContext): boolean {
    return context.getType() === 'rpc' && isGrpcCall(context.getArgByIndex(0));
  }

  isTokenlessDaprCall(context: ExecutionContext): boolean {
    return isTokenlessDaprGrpcCall(context.getArgByIndex(0));
  }

  extractToken(context: ExecutionContext): PresentedToken {
    return readTokenMetadata(context.getArgByIndex<{ metadata: GrpcMetadataLike }>(0).metadata);
  }

  describeTarget(context: ExecutionContext): string {
    return grpcMethodPath(context.getArgByIndex(0));
  }

  reject(context: ExecutionContext): Promise<boolean> {
    const callback = context.getArgByIndex<UnaryCallback | undefined>(1);
    if (typeof callback === 'function') {
      callback(unauthenticatedStatus(), null);
    } else {
      context.getArgByIndex<GrpcCallLike>(0).emit?.('error', unauthenticatedStatus());
    }
    // A new promise each time: one shared pending promise would keep every waiter alive.
    return new Promise<boolean>(() => undefined);
  }
}
