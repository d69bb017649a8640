import type { AllowedCaller } from '../callers/caller-rule.js';
import { callerParamFactory } from '../callers/verified-caller.js';
import { DAPR_AUTH_ACCESS_METADATA, DAPR_CALLERS_METADATA, NEST_GUARDS_METADATA } from '../dapr-auth.constants.js';
import type { DaprAccess } from './dapr-access.js';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import type { HandlerEntry } from './handler-inventory.js';
import { DaprAuthMessageHandlerGuard } from './message-handler-guard.js';
import { type ClassRef, type NestClassResolver, runtimeClassOf } from './nest-class.js';

/** Marks DaprAuthGuard and its subclasses, so this file needs no import of the guard (no cycle). */
export const DAPR_AUTH_GUARD_MARK = Symbol.for('nestjs-dapr-auth:guard');

/** Marks the guards `daprOr()` makes (an app's own guard composed with the Dapr check), so start-up can tell where they are. */
export const DAPR_OR_GUARD_MARK = Symbol.for('nestjs-dapr-auth:dapr-or-guard');

/** How one handler is covered, read from its decorators and its class's. */
export interface HandlerAccess {
  /**
   * `'public'`: `@DaprPublic()` is nearest. `'protected'`: `@DaprProtected()` or
   * `@UseGuards(DaprAuthGuard)` is nearest. `'dapr-or-app-guard'`: `@DaprOrAppGuard()` is nearest.
   * `undefined`: none of them, on the method or the class.
   */
  readonly access: DaprAccess | undefined;
  /** A guard made by `daprOr()` is in `@UseGuards` of the method or the class (it runs whatever the app-level config). */
  readonly orGuarded: boolean;
  /** A DaprAuthGuard is in `@UseGuards` of the method or the class: it runs whatever the app-level config. */
  readonly routeGuarded: boolean;
  /**
   * `global: true` put its message-handler guard on this method (a message or gRPC handler with no
   * decision of its own): it runs whatever the app-level config, like a route guard.
   */
  readonly messageGuarded: boolean;
  /** `@DaprPublic()` and the guard on the same method or class: contradictory, so it counts as protected. */
  readonly conflicting: boolean;
  /** `@DaprCallers()` of the method, else of the class: the apps allowed to call (undefined: no caller rule). */
  readonly callers: readonly AllowedCaller[] | undefined;
  /** A parameter has `@DaprCaller()`: the guard then remembers how to read the caller (else it spends nothing on it). */
  readonly wantsCaller: boolean;
  /** A rule on the method itself: `@DaprProtected()`, `@UseGuards(DaprAuthGuard)` or `@DaprCallers()` (it beats any exemption). */
  readonly explicitRule: boolean;
  /**
   * Start-up decided that daprd calls this handler without a token (its health probe, gRPC health
   * check and discovery): see tokenless-handlers.ts. Never true for a handler start-up did not see.
   */
  readonly tokenless: boolean;
}

/** `ROUTE_ARGS_METADATA` of `@nestjs/common`: where parameter decorators are recorded, per method name. */
const NEST_ROUTE_ARGS_METADATA = '__routeArguments__';

function hasCallerParameter(handler: object, controller: object): boolean {
  const name = (handler as { name?: unknown }).name;
  if (typeof name !== 'string' || name === '') return true; // cannot tell: remember, to be safe
  // Parameter decorators write to the class that declared the method: for a Proxy-wrapped or
  // mixed-in class that is not always `controller`, so its prototype's constructor is asked too.
  return [controller, runtimeClassOf(controller as ClassRef)].some((host) => {
    const args = Reflect.getMetadata(NEST_ROUTE_ARGS_METADATA, host, name) as Record<string, { factory?: unknown }> | undefined;
    return Object.values(args ?? {}).some((arg) => arg?.factory === callerParamFactory);
  });
}

/** Whether `guard` (a class or an instance, as `@UseGuards` takes them) carries `mark` on its class. */
function isMarked(guard: unknown, mark: symbol): boolean {
  if (typeof guard === 'function') return (guard as unknown as Record<symbol, unknown>)[mark] === true;
  return typeof guard === 'object' && guard !== null && (guard.constructor as unknown as Record<symbol, unknown>)[mark] === true;
}

/** Whether `guard` (a class or an instance, as `@UseGuards` takes them) is DaprAuthGuard or a subclass. */
export function isDaprAuthGuard(guard: unknown): boolean {
  return isMarked(guard, DAPR_AUTH_GUARD_MARK);
}

/** Whether `guard` (a class or an instance) is one `daprOr()` made (or a subclass of one). */
export function isDaprOrGuard(guard: unknown): boolean {
  return isMarked(guard, DAPR_OR_GUARD_MARK);
}

/**
 * The decision on one level (the method, or the class). Read as Nest reads `@UseGuards`: the
 * nearest metadata, so a class inherits its parent's. Naming the guard wins over `@DaprPublic()`
 * on the same level (fail closed).
 */
function levelAccess(target: object): { access: DaprAccess | undefined; guarded: boolean; orGuarded: boolean; conflicting: boolean } {
  const marked = Reflect.getMetadata(DAPR_AUTH_ACCESS_METADATA, target) as DaprAccess | undefined;
  const guards = Reflect.getMetadata(NEST_GUARDS_METADATA, target) as unknown[] | undefined;
  const guarded = guards?.some((guard) => isDaprAuthGuard(guard)) ?? false;
  const orGuarded = guards?.some((guard) => isDaprOrGuard(guard)) ?? false;
  // Naming DaprAuthGuard demands the token: it beats @DaprPublic() (warned as a contradiction) and @DaprOrAppGuard() (Dapr-only then) on the same level.
  if (guarded) return { access: 'protected', guarded, orGuarded, conflicting: marked === 'public' };
  return { access: marked, guarded, orGuarded, conflicting: false };
}

/**
 * The one rule for who decides about a handler, used by the guard, the global guard and the
 * start-up audit alike: the method's own decorators win over its class's. `controller` must be
 * the class Nest reads class-level guards from: see {@link HandlerAccessIndex}.
 */
export function readHandlerAccess(handler: object, controller: object): HandlerAccess {
  const method = levelAccess(handler);
  const classLevel = levelAccess(controller);
  const guards = Reflect.getOwnMetadata(NEST_GUARDS_METADATA, handler) as unknown[] | undefined;
  return {
    access: method.access ?? classLevel.access,
    routeGuarded: method.guarded || classLevel.guarded,
    orGuarded: method.orGuarded || classLevel.orGuarded,
    messageGuarded: guards?.includes(DaprAuthMessageHandlerGuard) ?? false,
    conflicting: method.conflicting || (method.access === undefined && classLevel.conflicting),
    callers: (Reflect.getMetadata(DAPR_CALLERS_METADATA, handler) ?? Reflect.getMetadata(DAPR_CALLERS_METADATA, controller)) as
      readonly AllowedCaller[] | undefined,
    wantsCaller: hasCallerParameter(handler, controller),
    explicitRule:
      method.guarded ||
      method.access === 'protected' ||
      method.access === 'dapr-or-app-guard' ||
      Reflect.getOwnMetadata(DAPR_CALLERS_METADATA, handler) !== undefined,
    tokenless: false,
  };
}

function sameAccess(a: HandlerAccess, b: HandlerAccess): boolean {
  const callers = (access: HandlerAccess) => access.callers?.map((entry) => `${entry.namespace ?? '*'}/${entry.appId}`).join(',');
  return (
    a.access === b.access &&
    a.routeGuarded === b.routeGuarded &&
    a.orGuarded === b.orGuarded &&
    a.messageGuarded === b.messageGuarded &&
    a.conflicting === b.conflicting &&
    a.wantsCaller === b.wantsCaller &&
    callers(a) === callers(b)
  );
}

/** Whether `target` itself (not a parent) carries a class-level decision of this library. */
function hasOwnRule(target: object): boolean {
  return (
    Reflect.getOwnMetadata(DAPR_AUTH_ACCESS_METADATA, target) !== undefined ||
    Reflect.getOwnMetadata(DAPR_CALLERS_METADATA, target) !== undefined ||
    ((Reflect.getOwnMetadata(NEST_GUARDS_METADATA, target) as unknown[] | undefined)?.some((guard) => isDaprAuthGuard(guard) || isDaprOrGuard(guard)) ?? false)
  );
}

function className(target: ClassRef): string {
  return target.name || '(anonymous class)';
}

/** A handler's access for the first class it was seen with, and for any other class it is seen with. */
interface CachedAccess {
  readonly runtimeClass: object;
  readonly access: HandlerAccess;
  others?: Map<object, HandlerAccess>;
}

/**
 * Every handler's {@link HandlerAccess}, read from the class Nest runs class-level guards from, and
 * found again at request time from what a guard sees: the handler and `context.getClass()`.
 *
 * At start-up, {@link register} reads each controller handler with Nest's class (see
 * {@link NestClassResolver}) and refuses, with a {@link DaprAuthConfigError} that says why, the
 * shapes that cannot be read safely: a rule on a class Nest does not read (a Proxy-returning class
 * decorator on the other side of it), two controllers a guard cannot tell apart that decide
 * differently, or a Nest that cannot be asked and two readings that differ. A handler not seen at
 * start-up (a WebSocket gateway, a guard built by hand) is read on first use, with Nest's class of
 * `context.getClass()` when Nest can be asked.
 */
export class HandlerAccessIndex {
  private readonly byHandler = new WeakMap<object, CachedAccess>();
  /** The handlers start-up found daprd calls without a token (set by {@link exemptTokenless}). */
  private tokenless: ReadonlySet<object> = new Set();

  constructor(private readonly resolver: NestClassResolver = { classOf: undefined }) {}

  /** The access of `handler` as seen with `runtimeClass` (`context.getClass()`): one WeakMap lookup once known. */
  read(handler: object, runtimeClass: object): HandlerAccess {
    const cached = this.byHandler.get(handler);
    if (cached !== undefined && cached.runtimeClass === runtimeClass) return cached.access;
    const other = cached?.others?.get(runtimeClass);
    if (other !== undefined) return other;
    const classOf = this.resolver.classOf;
    return this.remember(handler, runtimeClass, readHandlerAccess(handler, classOf ? classOf(runtimeClass as ClassRef) : runtimeClass));
  }

  /**
   * Start-up: reads every handler with the class Nest reads, and keeps it under what a guard will
   * see. Returns each entry's access.
   *
   * @throws DaprAuthConfigError listing every handler whose class shape cannot be read safely.
   */
  register(entries: readonly HandlerEntry[]): Map<HandlerEntry, HandlerAccess> {
    const problems = new Set<string>();
    const result = new Map<HandlerEntry, HandlerAccess>();
    const seen = new Map<object, Map<object, { access: HandlerAccess; by: ClassRef }>>();
    for (const entry of entries) {
      const metatype = entry.controller;
      const runtimeClass = runtimeClassOf(metatype);
      const access = this.withTokenless(entry.handler, this.accessAtStartUp(entry, runtimeClass, problems));
      result.set(entry, access);
      const byClass = seen.get(entry.handler) ?? new Map<object, { access: HandlerAccess; by: ClassRef }>();
      seen.set(entry.handler, byClass);
      const earlier = byClass.get(runtimeClass);
      if (earlier !== undefined && earlier.by !== metatype && !sameAccess(earlier.access, access)) {
        problems.add(
          `${entry.target}: controllers ${className(earlier.by)} and ${className(metatype)} share this method and the class a guard sees ` +
            `(${className(runtimeClass)}, e.g. through applyMixins), but their class-level rules differ, so a guard cannot tell ` +
            `which applies. Put the rules on the methods, or give each controller its own method.`,
        );
      }
      byClass.set(runtimeClass, { access, by: metatype });
      this.remember(entry.handler, runtimeClass, access, true);
    }
    if (problems.size > 0) {
      throw new DaprAuthConfigError(
        `class-level rules that cannot be read safely:${[...problems]
          .map(
            (problem) => `
  - ${problem}`,
          )
          .join('')}`,
      );
    }
    return result;
  }

  private accessAtStartUp(entry: HandlerEntry, runtimeClass: ClassRef, problems: Set<string>): HandlerAccess {
    const metatype = entry.controller;
    const classOf = this.resolver.classOf;
    if (classOf === undefined) {
      // Nest cannot be asked: read both candidates; they must agree.
      const access = readHandlerAccess(entry.handler, metatype);
      if (runtimeClass !== metatype && !sameAccess(access, readHandlerAccess(entry.handler, runtimeClass))) {
        problems.add(
          `${entry.target}: the class-level rules of ${className(metatype)} and of ${className(runtimeClass)} (its prototype's constructor: ` +
            `a class decorator that returns a Proxy, or applyMixins) differ, and this version of @nestjs/core cannot be asked which one it ` +
            `reads. Put the rules on the methods, or upgrade to @nestjs/core 11.2.8+ / 12.2+.`,
        );
      }
      return access;
    }
    const nestClass = classOf(metatype);
    // A Proxy and the class it wraps share a prototype: a rule on the one Nest does not read would look applied and not be.
    for (const other of [metatype, runtimeClass]) {
      if (
        other !== nestClass &&
        other.prototype === nestClass.prototype &&
        hasOwnRule(other) &&
        !sameAccess(readHandlerAccess(entry.handler, other), readHandlerAccess(entry.handler, nestClass))
      ) {
        problems.add(
          `${entry.target}: a class-level rule (@DaprProtected, @DaprPublic, @DaprCallers or @UseGuards(DaprAuthGuard)) sits on a class ` +
            `Nest does not read guards from: a class decorator returns a Proxy between it and @Controller. Nest reads the class it ` +
            `instantiated; put the rule above that class decorator (next to @Controller), or on the methods.`,
        );
      }
    }
    return readHandlerAccess(entry.handler, nestClass);
  }

  /**
   * Start-up: the handlers daprd calls without a token pass without one; every other handler
   * (and any handler seen later) does not. Re-reads the cached entries.
   */
  exemptTokenless(handlers: ReadonlySet<object>): void {
    const before = this.tokenless;
    this.tokenless = handlers;
    for (const handler of new Set([...before, ...handlers])) {
      const cached = this.byHandler.get(handler);
      if (cached === undefined) continue;
      const others = cached.others;
      this.byHandler.set(handler, { runtimeClass: cached.runtimeClass, access: this.withTokenless(handler, cached.access), others });
      if (others) for (const [runtimeClass, access] of others) others.set(runtimeClass, this.withTokenless(handler, access));
    }
  }

  private withTokenless(handler: object, access: HandlerAccess): HandlerAccess {
    const tokenless = this.tokenless.has(handler);
    return access.tokenless === tokenless ? access : { ...access, tokenless };
  }

  private remember(handler: object, runtimeClass: object, readAccess: HandlerAccess, replace = false): HandlerAccess {
    const access = this.withTokenless(handler, readAccess);
    const cached = this.byHandler.get(handler);
    if (cached === undefined || (replace && cached.runtimeClass === runtimeClass)) {
      this.byHandler.set(handler, { runtimeClass, access, others: cached?.others });
    } else if (cached.runtimeClass !== runtimeClass) {
      (cached.others ??= new Map()).set(runtimeClass, access);
    }
    return access;
  }
}
