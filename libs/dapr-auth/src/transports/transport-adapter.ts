import type { ExecutionContext } from '@nestjs/common';
import type { PresentedToken } from '../pipeline.types.js';

/**
 * Everything the guard needs to know about one kind of execution context, so that the pipeline
 * in {@link DaprAuthGuard} is the same for every transport. Adding a transport means adding one
 * adapter and one line in `createTransportAdapters`.
 */
export interface TransportAdapter {
  /** Name used in logs: `HTTP`, `gRPC`, ... */
  readonly transport: string;
  /** Whether this adapter handles `context`. Adapters are asked in order; the first `true` wins. */
  supports(context: ExecutionContext): boolean;
  /** Whether this is one of the calls daprd makes without a token (health probe, discovery). */
  isTokenlessDaprCall(context: ExecutionContext): boolean;
  /** The token value(s) the caller presented, exactly as received. */
  extractToken(context: ExecutionContext): PresentedToken;
  /** Route or method for logs. Never anything the caller controls beyond the route itself. */
  describeTarget(context: ExecutionContext): string;
  /**
   * Shapes the rejection for this transport: throws the exception Nest turns into the right
   * status (HTTP 401, gRPC 16), or answers the call itself and returns what stops Nest there.
   */
  reject(context: ExecutionContext): false | Promise<boolean>;
}
