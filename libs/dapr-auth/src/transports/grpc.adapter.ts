import {
  DAPR_API_TOKEN_HEADER,
  FORBIDDEN_MESSAGE,
  GRPC_STATUS_PERMISSION_DENIED,
  GRPC_STATUS_UNAUTHENTICATED,
  REJECTION_MESSAGE,
} from '../dapr-auth.constants.js';
import type { ExecutionContext } from '@nestjs/common';
import type { PresentedCaller, PresentedToken, RejectionKind } from '../pipeline.types.js';
import {
  GRPC_REJECTION,
  grpcMethodPath,
  isGrpcMetadata,
  isTokenlessDaprGrpcCall,
  readCallerMetadata,
  readTokenMetadata,
  type GrpcMetadataLike,
} from './grpc-call.js';
import { rejectionMaker } from './stackless.js';
import type { TransportAdapter } from './transport-adapter.js';

/** The `RpcException` class of the app's own `@nestjs/microservices` (an optional peer). */
export type RpcExceptionClass = new (error: string | object) => Error;

/**
 * gRPC unary, server-streaming and `@GrpcStreamMethod` handlers, whose arguments are
 * `[data, metadata, call]`. Rejection: an `RpcException` with code 16, which Nest's RPC exception
 * filter hands to grpc-js as UNAUTHENTICATED (returning `false` would give 2 UNKNOWN).
 */
export class GrpcTransportAdapter implements TransportAdapter {
  readonly transport = 'gRPC';

  private readonly rejections: Record<RejectionKind, () => Error>;

  /** @param tokenHeader the metadata key of the token (option `tokenHeader`). */
  constructor(
    RpcException: RpcExceptionClass,
    private readonly tokenHeader: string = DAPR_API_TOKEN_HEADER,
  ) {
    this.rejections = {
      unauthenticated: rejectionMaker(
        () => new RpcException({ ...GRPC_REJECTION.unauthenticated }),
        (rejection) => {
          rejection.error = { code: GRPC_STATUS_UNAUTHENTICATED, message: REJECTION_MESSAGE };
        },
      ),
      forbidden: rejectionMaker(
        () => new RpcException({ ...GRPC_REJECTION.forbidden }),
        (rejection) => {
          rejection.error = { code: GRPC_STATUS_PERMISSION_DENIED, message: FORBIDDEN_MESSAGE };
        },
      ),
    };
  }

  supports(context: ExecutionContext): boolean {
    return context.getType() === 'rpc' && isGrpcMetadata(context.getArgByIndex(1));
  }

  isTokenlessDaprCall(context: ExecutionContext): boolean {
    return isTokenlessDaprGrpcCall(context.getArgByIndex(2));
  }

  extractToken(context: ExecutionContext): PresentedToken {
    return readTokenMetadata(context.getArgByIndex<GrpcMetadataLike>(1), this.tokenHeader);
  }

  readCaller(context: ExecutionContext): PresentedCaller {
    return readCallerMetadata(context.getArgByIndex<GrpcMetadataLike>(1));
  }

  describeTarget(context: ExecutionContext): string {
    return grpcMethodPath(context.getArgByIndex(2));
  }

  reject(_context: ExecutionContext, kind: RejectionKind): Error {
    return this.rejections[kind]();
  }
}
