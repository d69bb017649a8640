import type { ExecutionContext } from '@nestjs/common';
import type { PresentedCaller, PresentedToken, RejectionKind } from '../pipeline.types.js';

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
  /**
   * Set only when {@link supports} is true for exactly the contexts of this type
   * (`context.getType()`) and does nothing else: the guard then finds the adapter by the type
   * alone, without asking each adapter in turn (only for adapters ahead of any that lacks it).
   */
  readonly contextType?: string;
  /** Whether this is one of the calls daprd makes without a token (health probe, discovery). */
  isTokenlessDaprCall(context: ExecutionContext): boolean;
  /** The token value(s) the caller presented, exactly as received. */
  extractToken(context: ExecutionContext): PresentedToken;
  /** The caller identity daprd stamped on the call (`dapr-caller-app-id`, `dapr-caller-namespace`), as received. */
  readCaller(context: ExecutionContext): PresentedCaller;
  /** Route or method for logs. Never anything the caller controls beyond the route itself. */
  describeTarget(context: ExecutionContext): string;
  /**
   * Shapes the rejection for this transport: returns the exception Nest turns into the right
   * status (`unauthenticated`: HTTP 401, gRPC 16; `forbidden`: HTTP 403, gRPC 7), which the guard
   * throws from `canActivate` itself (each frame a throw unwinds costs), or answers the call itself
   * and returns what stops Nest there. (Throwing here works too.)
   */
  reject(context: ExecutionContext, kind: RejectionKind): Error | false | Promise<boolean>;
}
