import type { ExecutionContext } from '@nestjs/common';
import { requestKey } from '../transports/request-key.js';
import type { TransportAdapter } from '../transports/transport-adapter.js';
import { type DaprCallerIdentity, readCaller } from './caller-rule.js';

/**
 * What @DaprCaller() reads: for each request whose token the guard accepted, the caller identity
 * it checked, or the adapter that reads it (so it is parsed only if a handler asks; storing the
 * adapter allocates nothing per request). Keyed by requestKey, so nothing outlives the request; a
 * request the guard did not check has no entry.
 */
const callerByRequest = new WeakMap<object, DaprCallerIdentity | TransportAdapter>();

export function rememberCaller(context: ExecutionContext, caller: DaprCallerIdentity | TransportAdapter): void {
  const key = requestKey(context);
  if (key) callerByRequest.set(key, caller);
}

/** The factory of `@DaprCaller()`; start-up recognises the decorator on a handler by it (see handler-access.ts). */
export const callerParamFactory = (_data: unknown, context: ExecutionContext): DaprCallerIdentity | undefined => callerOf(context);

export function callerOf(context: ExecutionContext): DaprCallerIdentity | undefined {
  const key = requestKey(context);
  const entry = key === undefined ? undefined : callerByRequest.get(key);
  if (entry === undefined) return undefined;
  if (!('readCaller' in entry)) return entry;
  const identity = readCaller(entry.readCaller(context));
  return typeof identity === 'string' ? undefined : identity;
}
