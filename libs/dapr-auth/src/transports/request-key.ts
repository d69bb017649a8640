import type { ExecutionContext } from '@nestjs/common';

/**
 * An object that lives exactly as long as the request, to key what the guard learnt about it
 * (verified claims, the caller) in a WeakMap, so nothing outlives the request. HTTP: the request.
 * gRPC unary and `@GrpcStreamMethod` (`[data, metadata, call]`): the metadata. `@GrpcStreamCall`
 * (`[call]` or `[call, callback]`): the call.
 */
export function requestKey(context: ExecutionContext): object | undefined {
  const second = context.getType() === 'rpc' ? context.getArgByIndex<unknown>(1) : undefined;
  const key = typeof second === 'object' && second !== null ? second : context.getArgByIndex<unknown>(0);
  return typeof key === 'object' && key !== null ? key : undefined;
}
