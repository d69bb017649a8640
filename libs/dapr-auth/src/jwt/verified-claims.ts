import type { ExecutionContext } from '@nestjs/common';

/**
 * The verified claims of each request, for @DaprClaims(). Keyed by an object that lives exactly as
 * long as the request (see requestKey), so nothing outlives it.
 */
const claimsByRequest = new WeakMap<object, Readonly<Record<string, unknown>>>();

/**
 * HTTP: the request. gRPC unary and `@GrpcStreamMethod` (`[data, metadata, call]`): the metadata.
 * `@GrpcStreamCall` (`[call]` or `[call, callback]`): the call.
 */
function requestKey(context: ExecutionContext): object | undefined {
  const second = context.getType() === 'rpc' ? context.getArgByIndex<unknown>(1) : undefined;
  const key = typeof second === 'object' && second !== null ? second : context.getArgByIndex<unknown>(0);
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
