import type { ExecutionContext } from '@nestjs/common';
import { requestKey } from '../transports/request-key.js';

/**
 * The requests a DaprAuthGuard of this build ACCEPTED as coming from daprd (token verified, caller
 * rule passed), for `DaprAuthRules.isVerifiedDaprCall`. Never a request exempted without a token,
 * nor one report-only mode let through after a refusal. Keyed by requestKey, so nothing outlives
 * the request; a request the guard did not accept has no entry.
 */
const verifiedRequests = new WeakSet<object>();

export function rememberVerifiedDaprCall(context: ExecutionContext): void {
  const key = requestKey(context);
  if (key) verifiedRequests.add(key);
}

export function wasVerifiedDaprCall(context: ExecutionContext): boolean {
  const key = requestKey(context);
  return key !== undefined && verifiedRequests.has(key);
}
