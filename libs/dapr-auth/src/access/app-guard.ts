import { APP_GUARD, type ModulesContainer } from '@nestjs/core';
import { isDaprAuthGuard, isDaprOrGuard } from './handler-access.js';

/** What Nest keeps of a provider (InstanceWrapper, the same in Nest 11 and 12). */
interface ProviderRecord {
  /** `useClass`'s class; a factory for `useFactory` and `useExisting`; null for `useValue`. */
  metatype?: unknown;
  /** `useValue`'s value (the others' once built). */
  instance?: unknown;
  /** What a factory injects: for `useExisting`, the existing token alone. */
  inject?: readonly unknown[] | null;
  isAlias?: boolean;
}

/** The guard a provider record registers, where it is known before anything is built. */
function registeredGuard(record: ProviderRecord): unknown {
  if (record.isAlias === true) return record.inject?.[0]; // useExisting
  if (record.metatype === null || record.metatype === undefined) return record.instance; // useValue
  if (record.inject !== undefined && record.inject !== null) return undefined; // useFactory: unknown until it runs
  return record.metatype; // useClass
}

/**
 * The DaprAuthGuard class (or subclass) the app registered itself as `APP_GUARD`, e.g.
 * `{ provide: APP_GUARD, useClass: MyDaprAuthGuard }`, so that the start-up audit counts its HTTP
 * routes as protected; `undefined` when there is none.
 *
 * Nest registers each `APP_GUARD` provider under a token of its own, `APP_GUARD (UUID: …)` (a
 * request-scoped one as an injectable). `useClass`, `useExisting` (of the class) and `useValue` are
 * read; a `useFactory` is not counted, whatever it returns: what it builds is unknown until it
 * runs, and the audit may warn once too often but must never count a guard that is not there.
 */
export function daprAuthAppGuard(modules: ModulesContainer): { name: string } | undefined {
  return appGuardWhere(modules, isDaprAuthGuard);
}

/**
 * A guard made by `daprOr()` that the app registered as `APP_GUARD` (read the same way as
 * {@link daprAuthAppGuard}; a `useFactory` is not counted), so that start-up knows its
 * `@DaprOrAppGuard()` HTTP routes are covered; `undefined` when there is none.
 */
export function daprOrAppGuard(modules: ModulesContainer): { name: string } | undefined {
  return appGuardWhere(modules, isDaprOrGuard);
}

function appGuardWhere(modules: ModulesContainer, matches: (guard: unknown) => boolean): { name: string } | undefined {
  for (const moduleRef of modules.values()) {
    for (const records of [moduleRef.providers, moduleRef.injectables] as ReadonlyMap<unknown, ProviderRecord>[]) {
      for (const [token, record] of records) {
        if (typeof token !== 'string' || !token.startsWith(`${APP_GUARD} (`)) continue;
        const guard = registeredGuard(record);
        if (matches(guard)) return { name: typeof guard === 'function' ? guard.name : (guard as object).constructor.name };
      }
    }
  }
  return undefined;
}
