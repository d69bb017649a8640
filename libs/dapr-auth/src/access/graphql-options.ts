import type { ModulesContainer } from '@nestjs/core';

/** `GRAPHQL_MODULE_OPTIONS` of `@nestjs/graphql` (an optional peer: not imported). */
const GQL_MODULE_OPTIONS = 'GqlModuleOptions';

/**
 * Whether the app's GraphQL module runs guards on field resolvers (its option
 * `fieldResolverEnhancers` includes `'guards'`); `undefined` when the app has no GraphQL module.
 * Read once the options exist (onModuleInit); an app with several GraphQL modules counts only if
 * every one does.
 */
export function runsGuardsOnFieldResolvers(modules: ModulesContainer): boolean | undefined {
  let found: boolean | undefined;
  for (const moduleRef of modules.values()) {
    const options = moduleRef.providers.get(GQL_MODULE_OPTIONS)?.instance as { fieldResolverEnhancers?: unknown } | undefined;
    if (options === undefined || options === null) continue;
    const guards = Array.isArray(options.fieldResolverEnhancers) && options.fieldResolverEnhancers.includes('guards');
    found = (found ?? true) && guards;
  }
  return found;
}
