import type { ExecutionContext } from '@nestjs/common';
import { requestKey } from '../transports/request-key.js';

/**
 * The verified claims of each request, for @DaprClaims(). Keyed by an object that lives exactly as
 * long as the request (see requestKey), so nothing outlives it.
 */
const claimsByRequest = new WeakMap<object, Readonly<Record<string, unknown>>>();

export function rememberClaims(context: ExecutionContext, claims: Readonly<Record<string, unknown>>): void {
  const key = requestKey(context);
  if (key) claimsByRequest.set(key, claims);
}

export function claimsOf(context: ExecutionContext): Readonly<Record<string, unknown>> | undefined {
  const key = requestKey(context);
  return key ? claimsByRequest.get(key) : undefined;
}
