import type { ExecutionContext } from '@nestjs/common';
import { requestKey } from '../transports/request-key.js';

/**
 * Marks the requests a DaprAuthGuard of this build ACCEPTED as coming from daprd (token verified,
 * caller rule passed), for `DaprAuthRules.isVerifiedDaprCall`. Never a request exempted without a
 * token, nor one report-only mode let through after a refusal.
 *
 * The mark is a property under a symbol only this module holds, on the object requestKey gives
 * (the request, gRPC metadata, the GraphQL context), so it lives exactly as long as the request.
 * Nothing a client sends can carry it (a network value never becomes a symbol key). A property:
 * a WeakSet entry cost every accepted request about 150 ns, ten times a property (bench/history.md).
 * An object that takes no property (frozen) goes to a WeakSet instead; the plain assignment (with
 * a catch for that case) is what V8 makes fast, where Reflect.set cost nearly as much as the WeakSet.
 */
const VERIFIED = Symbol('nestjs-dapr-auth:verified-dapr-call');
const verifiedFrozen = new WeakSet<object>();

export function rememberVerifiedDaprCall(context: ExecutionContext): void {
  const key = requestKey(context) as { [VERIFIED]?: true } | undefined;
  if (key === undefined) return;
  try {
    key[VERIFIED] = true;
  } catch {
    verifiedFrozen.add(key); // a frozen object (ES modules are strict: assigning throws)
  }
}

export function wasVerifiedDaprCall(context: ExecutionContext): boolean {
  const key = requestKey(context) as { [VERIFIED]?: unknown } | undefined;
  return key !== undefined && (key[VERIFIED] === true || verifiedFrozen.has(key));
}
