import type { AllowedCaller } from './callers/caller-rule.js';
import { callerParamFactory } from './callers/verified-caller.js';
import { DAPR_AUTH_ACCESS_METADATA, DAPR_CALLERS_METADATA, NEST_GUARDS_METADATA } from './dapr-auth.constants.js';
import type { DaprAccess } from './decorators/dapr-access.js';

/** Marks DaprAuthGuard and its subclasses, so this file needs no import of the guard (no cycle). */
export const DAPR_AUTH_GUARD_MARK = Symbol.for('nestjs-dapr-auth:guard');

/** How one handler is covered, read from its decorators and its class's. */
export interface HandlerAccess {
  /**
   * `'public'`: `@DaprPublic()` is nearest. `'protected'`: `@DaprProtected()` or
   * `@UseGuards(DaprAuthGuard)` is nearest. `undefined`: none of them, on the method or the class.
   */
  readonly access: DaprAccess | undefined;
  /** A DaprAuthGuard is in `@UseGuards` of the method or the class: it runs whatever the app-level config. */
  readonly routeGuarded: boolean;
  /** `@DaprPublic()` and the guard on the same method or class: contradictory, so it counts as protected. */
  readonly conflicting: boolean;
  /** `@DaprCallers()` of the method, else of the class: the apps allowed to call (undefined: no caller rule). */
  readonly callers: readonly AllowedCaller[] | undefined;
  /** A parameter has `@DaprCaller()`: the guard then remembers how to read the caller (else it spends nothing on it). */
  readonly wantsCaller: boolean;
}

/** `ROUTE_ARGS_METADATA` of `@nestjs/common`: where parameter decorators are recorded, per method name. */
const NEST_ROUTE_ARGS_METADATA = '__routeArguments__';

function hasCallerParameter(handler: object, controller: object): boolean {
  const name = (handler as { name?: unknown }).name;
  if (typeof name !== 'string' || name === '') return true; // cannot tell: remember, to be safe
  const args = Reflect.getMetadata(NEST_ROUTE_ARGS_METADATA, controller, name) as Record<string, { factory?: unknown }> | undefined;
  return Object.values(args ?? {}).some((arg) => arg?.factory === callerParamFactory);
}

/** Whether `guard` (a class or an instance, as `@UseGuards` takes them) is DaprAuthGuard or a subclass. */
export function isDaprAuthGuard(guard: unknown): boolean {
  if (typeof guard === 'function') return (guard as { [DAPR_AUTH_GUARD_MARK]?: true })[DAPR_AUTH_GUARD_MARK] === true;
  return typeof guard === 'object' && guard !== null && (guard.constructor as { [DAPR_AUTH_GUARD_MARK]?: true })[DAPR_AUTH_GUARD_MARK] === true;
}

/**
 * The decision on one level (the method, or the class). Read as Nest reads `@UseGuards`: the
 * nearest metadata, so a class inherits its parent's. Naming the guard wins over `@DaprPublic()`
 * on the same level (fail closed).
 */
function levelAccess(target: object): { access: DaprAccess | undefined; guarded: boolean; conflicting: boolean } {
  const marked = Reflect.getMetadata(DAPR_AUTH_ACCESS_METADATA, target) as DaprAccess | undefined;
  const guarded = (Reflect.getMetadata(NEST_GUARDS_METADATA, target) as unknown[] | undefined)?.some(isDaprAuthGuard) ?? false;
  if (guarded) return { access: 'protected', guarded, conflicting: marked === 'public' };
  return { access: marked, guarded, conflicting: false };
}

/**
 * The one rule for who decides about a handler, used by the guard, the global guard and the
 * start-up audit alike: the method's own decorators win over its class's.
 */
export function readHandlerAccess(handler: object, controller: object): HandlerAccess {
  const method = levelAccess(handler);
  const classLevel = levelAccess(controller);
  return {
    access: method.access ?? classLevel.access,
    routeGuarded: method.guarded || classLevel.guarded,
    conflicting: method.conflicting || (method.access === undefined && classLevel.conflicting),
    callers: (Reflect.getMetadata(DAPR_CALLERS_METADATA, handler) ?? Reflect.getMetadata(DAPR_CALLERS_METADATA, controller)) as
      readonly AllowedCaller[] | undefined,
    wantsCaller: hasCallerParameter(handler, controller),
  };
}
