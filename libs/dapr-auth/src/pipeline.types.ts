import type { ExecutionContext } from '@nestjs/common';

/**
 * The types the guard's pipeline and every transport adapter share. They live here, below both,
 * so that an adapter needs neither the options nor the guard for them.
 */

/**
 * The token value(s) a caller presented, as a transport adapter (or a custom
 * `extractToken` option) read them: `undefined` when there is none. More than
 * one value is always a rejection.
 */
export type PresentedToken = string | readonly string[] | undefined;

/** Reads the token in an execution context no adapter knows (option `extractToken`). */
export type TokenExtractor = (context: ExecutionContext) => PresentedToken;

/** Why a presented token was refused before any JWT check; logged, never sent to the caller. */
export type TokenRejection = 'missing' | 'malformed' | 'mismatch';

/** The caller identity daprd stamped on a call, as a transport adapter read it (not yet checked). */
export interface PresentedCaller {
  /** `dapr-caller-app-id` value(s). */
  readonly appId: PresentedToken;
  /** `dapr-caller-namespace` value(s). */
  readonly namespace: PresentedToken;
  /**
   * Whether `namespace` can be trusted on this transport: only where the measurements show that a
   * caller's own `dapr-caller-namespace` never arrives alone (HTTP apps). Over gRPC a caller that
   * proxies (to any method, `AppCallback/OnInvoke` included) has its own value arrive alone, so
   * it never is (docs/caller-identity.md). Absent or `false`: the namespace is ignored.
   */
  readonly namespaceTrusted: boolean;
}

/** How a rejection is shaped: no or a wrong token (HTTP 401 / gRPC 16), or a caller not allowed (HTTP 403 / gRPC 7). */
export type RejectionKind = 'unauthenticated' | 'forbidden';
