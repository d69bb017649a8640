import type { ModulesContainer } from '@nestjs/core';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';

type ModuleClass = abstract new (...args: never[]) => unknown;

/**
 * Marks DaprAuthModule (a static, so subclasses inherit it) in the process-wide symbol registry:
 * the ES module and CommonJS builds loaded side by side are two classes, and both carry it.
 */
export const DAPR_AUTH_MODULE_MARK = Symbol.for('nestjs-dapr-auth:module');

function isDaprAuthModule(metatype: unknown): boolean {
  return typeof metatype === 'function' && (metatype as { [DAPR_AUTH_MODULE_MARK]?: unknown })[DAPR_AUTH_MODULE_MARK] === true;
}

/**
 * One DaprAuthModule per app. It is a global module, so a second `forRoot()` (say, in a feature
 * module) would silently decide which token `@DaprProtected()` routes accept by import order, while
 * the first one's `global: true` leaves those routes to that route guard. Refused at start-up.
 *
 * @throws DaprAuthConfigError when the app's container holds more than one (subclasses and the
 * other build of this package included).
 */
export function refuseSecondModule(modules: ModulesContainer): void {
  // Any DaprAuthModule: a subclass, or the class of the other build (ES modules / CommonJS) of this package.
  const instances = [...modules.values()].filter((moduleRef) => isDaprAuthModule(moduleRef.metatype));
  if (instances.length <= 1) return;
  // From the @Module() imports (the container links a global module into every module, so its own list says nothing).
  const importsIt = (metatype: object | undefined) =>
    metatype !== undefined &&
    ((Reflect.getMetadata('imports', metatype) ?? []) as unknown[]).some((item) => isDaprAuthModule((item as { module?: unknown } | null)?.module));
  const importers = [...modules.values()].filter((moduleRef) => importsIt(moduleRef.metatype)).map((moduleRef) => moduleRef.metatype.name);
  throw new DaprAuthConfigError(
    `imported ${instances.length} times in this app${importers.length > 0 ? ` (by ${[...new Set(importers)].join(', ')})` : ''}. ` +
      'Import DaprAuthModule.forRoot() / forRootAsync() once, in the root module: it is a global module, so every feature module ' +
      'can use DaprAuthGuard, @DaprProtected() and DaprAuthStatus without importing it again.',
  );
}

/** A provider as `provideInjectionTokensFrom` lists them (a class, or `{ provide, ... }`). */
type ProviderLike = unknown;

/** The tokens a class (constructor parameters, `@Inject()` included) or a factory provider (`inject`) asks for. */
export function injectedTokensOf(provider: ProviderLike): unknown[] {
  if (typeof provider === 'function') {
    const types = (Reflect.getMetadata('design:paramtypes', provider) ?? []) as unknown[];
    const explicit = (Reflect.getMetadata('self:paramtypes', provider) ?? []) as Array<{ index: number; param: unknown }>;
    const tokens = [...types];
    for (const { index, param } of explicit) tokens[index] = param;
    return tokens.filter((token) => token !== undefined && token !== Object);
  }
  if (typeof provider !== 'object' || provider === null) return [];
  const { inject, useClass } = provider as { inject?: unknown[]; useClass?: unknown };
  return [
    ...(inject ?? []).map((item) => (typeof item === 'object' && item !== null && 'token' in item ? item.token : item)),
    ...(useClass ? injectedTokensOf(useClass) : []),
  ];
}

function tokenOf(provider: ProviderLike): unknown {
  return typeof provider === 'object' && provider !== null && 'provide' in provider ? provider.provide : provider;
}

/**
 * `forRootAsync({ provideInjectionTokensFrom })` adds the listed providers to this module, after
 * its own: one for a token of the module's own (DaprAuthGuard, the resolved options, the token
 * source...) would replace it, and could stand in for every guard of the app. Only Nest's testing
 * overrides may do that (`overrideGuard` / `overrideProvider`).
 *
 * @param addedTokens what forRoot adds beside the module's static providers (`global`'s guard).
 * @throws DaprAuthConfigError naming the tokens, never their values.
 */
export function refuseOwnTokensFrom(providers: readonly ProviderLike[] | undefined, moduleClass: ModuleClass, addedTokens: readonly unknown[]): void {
  if (providers === undefined) return;
  // What the module provides, and what it and its providers inject (Nest's DiscoveryService,
  // ModulesContainer...): a provider of the same token here would take their place in this module.
  const staticProviders = (Reflect.getMetadata('providers', moduleClass) ?? []) as ProviderLike[];
  const injected = [moduleClass, ...staticProviders].flatMap(injectedTokensOf);
  const own = new Set([...staticProviders.map(tokenOf), ...addedTokens, ...injected]);
  const clashing = providers.map(tokenOf).filter((token) => own.has(token));
  if (clashing.length === 0) return;
  const names = clashing.map((token) => (typeof token === 'function' ? token.name : String(token))).join(', ');
  throw new DaprAuthConfigError(
    `provideInjectionTokensFrom provides ${names}, which DaprAuthModule provides itself: it would replace the module's own. ` +
      'List there only the providers your useFactory injects; to replace the guard in a test, use ' +
      'Test.createTestingModule(...).overrideGuard(DaprAuthGuard) or nestjs-dapr-auth/testing.',
  );
}

/**
 * A guard on a route (`@DaprProtected()`, `@UseGuards(DaprAuthGuard)`) is built in the module of
 * its controller, from what that module sees: a feature module that provides one of this module's
 * tokens itself (a token source, the resolved options...) would decide, for its own routes, which
 * token is accepted or which callers pass. Refused at start-up: the module alone provides them.
 *
 * @throws DaprAuthConfigError naming the modules and tokens (never a value).
 */
export function refuseForeignProviders(modules: ModulesContainer, ownTokens: readonly unknown[]): void {
  const found: string[] = [];
  for (const moduleRef of modules.values()) {
    if (isDaprAuthModule(moduleRef.metatype)) continue;
    for (const token of ownTokens) {
      if (moduleRef.providers.has(token as string))
        found.push(`${moduleRef.metatype?.name ?? '(anonymous module)'} provides ${typeof token === 'function' ? token.name : String(token)}`);
    }
  }
  if (found.length === 0) return;
  throw new DaprAuthConfigError(
    `${found.join('; ')}: only DaprAuthModule provides it (a guard on a route of that module would use that one instead). ` +
      'Remove the provider; configure the module through forRoot() / forRootAsync(), and in tests use overrideProvider() or nestjs-dapr-auth/testing.',
  );
}
