import type { ExecutionContext } from '@nestjs/common';

/**
 * The verified claims of each request, for @DaprClaims(). Keyed by an object that lives exactly as
 * long as the request (the HTTP request; the gRPC call's metadata), so nothing outlives it.
 */
const claimsByRequest = new WeakMap<object, Readonly<Record<string, unknown>>>();

function requestKey(context: ExecutionContext): object | undefined {
  const key = context.getArgByIndex<unknown>(context.getType() === 'rpc' ? 1 : 0) ?? context.getArgByIndex<unknown>(0);
  return typeof key === 'object' && key !== null ? key : undefined;
}

export function rememberClaims(context: ExecutionContext, claims: Readonly<Record<string, unknown>>): void {
  const key = requestKey(context);
  if (key) claimsByRequest.set(key, claims);
}

export function claimsOf(context: ExecutionContext): Readonly<Record<string, unknown>> | undefined {
  const key = requestKey(context);
  return key ? claimsByRequest.get(key) : undefined;
}
