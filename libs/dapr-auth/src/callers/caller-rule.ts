import type { PresentedCaller, PresentedToken } from '../pipeline.types.js';

/**
 * An app id or a namespace as Dapr allows them (letters, digits, `-`, `_`, `.`), at most 255
 * characters. Anything else is refused, never compared.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** One allowed caller: an app id, and the namespace it must come from (any, when undefined). */
export interface AllowedCaller {
  readonly appId: string;
  readonly namespace: string | undefined;
}

/** The identity of a call that passed the caller check (or that `@DaprCaller()` reads). */
export interface DaprCallerIdentity {
  /** `dapr-caller-app-id`, exactly as daprd sent it. */
  readonly appId: string;
  /** `dapr-caller-namespace`; `undefined` when absent or not trustworthy (any gRPC call: see {@link PresentedCaller.namespaceTrusted}). */
  readonly namespace: string | undefined;
}

/** Why a caller was refused; logged (with the app id when well-formed), never sent. */
export type CallerRejection = 'caller-missing' | 'caller-malformed' | 'caller-not-allowed';

/**
 * Parses `'checkout'` (that app id, from any namespace) and `'shop/checkout'` (that app id from
 * namespace `shop` only). Start-up only.
 *
 * @throws Error naming the entry when it is not an app id or `namespace/app-id`.
 */
export function parseAllowedCallers(entries: readonly unknown[], origin: string): readonly AllowedCaller[] {
  if (entries.length === 0) throw new Error(`${origin}: list at least one app id, e.g. 'checkout' or 'shop/checkout'.`);
  return Object.freeze(
    entries.map((entry) => {
      const parts = typeof entry === 'string' ? entry.split('/') : [];
      const [namespace, appId] = parts.length === 2 ? parts : [undefined, parts[0]];
      if (parts.length === 0 || parts.length > 2 || !NAME.test(appId ?? '') || (namespace !== undefined && !NAME.test(namespace))) {
        throw new Error(
          `${origin}: an entry (${typeof entry === 'string' ? `a string of ${entry.length} characters, not shown` : typeof entry}) is not an app id or 'namespace/app-id' (letters, digits, '-', '_', '.').`,
        );
      }
      return Object.freeze({ appId: appId, namespace });
    }),
  );
}

/** Exactly one well-formed value, else undefined (absent) or null (several, or malformed). */
function single(presented: PresentedToken): string | undefined | null {
  const values = typeof presented === 'string' ? [presented] : (presented ?? []);
  if (values.length === 0) return undefined;
  // Node joins repeated headers as "a, b", grpc-js sends them so too: a comma is never an app id.
  if (values.length > 1 || !NAME.test(values[0])) return null;
  return values[0];
}

/**
 * Which rule a refused caller identity broke (`caller-malformed`), for the log: never a value.
 */
export function malformedCallerDetail(presented: PresentedCaller): string {
  const problem = (presented: PresentedToken, name: string, what: string): string | undefined => {
    const values = typeof presented === 'string' ? presented.split(', ') : (presented ?? []);
    if (values.length > 1) return `several ${name} values (what a caller adding its own looks like)`;
    if (values.length === 1 && !NAME.test(values[0])) return `${name} is not ${what} (letters, digits, '-', '_', '.', at most 255)`;
    return undefined;
  };
  return (
    problem(presented.appId, 'dapr-caller-app-id', 'an app id') ??
    (presented.namespaceTrusted === true ? problem(presented.namespace, 'dapr-caller-namespace', 'a namespace') : undefined) ??
    'not exactly one valid app id'
  );
}

/**
 * The identity of a call, when it can be trusted: exactly one well-formed app id (several values
 * are what a caller's own attempt to send one looks like, see docs/caller-identity.md), and a
 * namespace only when exactly one well-formed value came on a path where daprd sets it.
 */
export function readCaller(presented: PresentedCaller): DaprCallerIdentity | CallerRejection {
  const appId = single(presented.appId);
  if (appId === undefined) return 'caller-missing';
  if (appId === null) return 'caller-malformed';
  const namespace = presented.namespaceTrusted === true ? single(presented.namespace) : undefined;
  if (namespace === null) return 'caller-malformed';
  return { appId, namespace };
}

/** Each allowed list's entries by app id, made on first use: a lookup costs the same for 1 app or 100. */
const byAppId = new WeakMap<readonly AllowedCaller[], Map<string, ReadonlyArray<string | undefined>>>();

function lookupOf(allowed: readonly AllowedCaller[]): Map<string, ReadonlyArray<string | undefined>> {
  let lookup = byAppId.get(allowed);
  if (lookup === undefined) {
    const built = new Map<string, Array<string | undefined>>();
    for (const entry of allowed) {
      const namespaces = built.get(entry.appId);
      if (namespaces === undefined) built.set(entry.appId, [entry.namespace]);
      else namespaces.push(entry.namespace);
    }
    byAppId.set(allowed, (lookup = built));
  }
  return lookup;
}

/**
 * Whether `caller` is one of `allowed`: app ids compared exactly (letter case included), then the
 * namespace when the entry names one. App ids are not secrets: a map lookup, not a constant-time scan.
 */
export function isAllowed(caller: DaprCallerIdentity, allowed: readonly AllowedCaller[]): boolean {
  const namespaces = lookupOf(allowed).get(caller.appId);
  if (namespaces === undefined) return false;
  for (let i = 0; i < namespaces.length; i++) if (namespaces[i] === undefined || namespaces[i] === caller.namespace) return true;
  return false;
}
