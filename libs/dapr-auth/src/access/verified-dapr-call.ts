import type { ExecutionContext } from '@nestjs/common';
import { requestKey, requestKeyOfType } from '../transports/request-key.js';

/**
 * Marks the requests a DaprAuthGuard of this build ACCEPTED as coming from daprd (token verified,
 * caller rule passed), for `DaprAuthRules.isVerifiedDaprCall`. Never a request exempted without a
 * token, nor one report-only mode let through after a refusal.
 *
 * The mark is a property under a symbol only this module holds, on the object requestKey gives
 * (the request, gRPC metadata, the GraphQL context), so it lives exactly as long as the request.
 * Nothing a client sends can carry it (a network value never becomes a symbol key). A property:
 * a WeakSet entry cost every accepted request about 150 ns, ten times a property (bench/history.md).
 * An object that takes no property (frozen) goes to a WeakMap instead; the plain assignment (with
 * a catch for that case) is what V8 makes fast, where Reflect.set cost nearly as much as the WeakSet.
 */
const VERIFIED = Symbol('nestjs-dapr-auth:verified-dapr-call');
/** Marks an object that takes no property (frozen) cannot carry. */
const frozenMarks = new WeakMap<object, Mark>();

/**
 * `true`: the request was verified. GraphQL: one context serves every field of an operation, each
 * with its own rule (a caller rule may refuse one field and pass another), so the mark names the
 * resolvers whose check passed (method and class: one inherited method may serve classes of other
 * rules), and only they are verified Dapr calls.
 */
type Mark = true | Map<object, Set<object>>;

export function rememberVerifiedDaprCall(context: ExecutionContext): void {
  const type = context.getType<string>();
  const key = requestKeyOfType(context, type) as { [VERIFIED]?: Mark } | undefined;
  if (key === undefined) return;
  let mark: Mark = true;
  if (type === 'graphql') {
    const resolvers = key[VERIFIED] ?? frozenMarks.get(key);
    mark = resolvers instanceof Map ? resolvers : new Map<object, Set<object>>();
    const classes = mark.get(context.getHandler()) ?? new Set<object>();
    classes.add(context.getClass());
    mark.set(context.getHandler(), classes);
  }
  try {
    key[VERIFIED] = mark;
  } catch {
    frozenMarks.set(key, mark); // a frozen object (ES modules are strict: assigning throws)
  }
}

export function wasVerifiedDaprCall(context: ExecutionContext): boolean {
  const key = requestKey(context) as { [VERIFIED]?: Mark } | undefined;
  if (key === undefined) return false;
  const mark = key[VERIFIED] ?? frozenMarks.get(key);
  if (mark === true) return true;
  // Only a Map this module made is a Map here (a client's value never becomes a symbol key).
  return mark instanceof Map && context.getType<string>() === 'graphql' && mark.get(context.getHandler())?.has(context.getClass()) === true;
}
