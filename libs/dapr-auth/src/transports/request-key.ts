import type { ExecutionContext } from '@nestjs/common';
import { graphqlContextOf } from './graphql.adapter.js';

/**
 * An object that lives exactly as long as the request, to key what the guard learnt about it
 * (verified claims, the caller) in a WeakMap, so nothing outlives the request. HTTP: the request.
 * gRPC unary and `@GrpcStreamMethod` (`[data, metadata, call]`): the metadata. `@GrpcStreamCall`
 * (`[call]` or `[call, callback]`): the call. GraphQL: the operation's GraphQL context, which every
 * resolver of the operation (and its parameter decorators) gets.
 */
export function requestKey(context: ExecutionContext): object | undefined {
  return requestKeyOfType(context, context.getType<string>());
}

/** {@link requestKey} for a caller that has read the context's type already (the accepted path: one read less). */
export function requestKeyOfType(context: ExecutionContext, type: string): object | undefined {
  if (type === 'graphql') return graphqlContextOf(context);
  const second = type === 'rpc' ? context.getArgByIndex<unknown>(1) : undefined;
  const key = typeof second === 'object' && second !== null ? second : context.getArgByIndex<unknown>(0);
  return typeof key === 'object' && key !== null ? key : undefined;
}
