import type { ModulesContainer } from '@nestjs/core';

/** `GRAPHQL_MODULE_OPTIONS` of `@nestjs/graphql` (an optional peer: not imported). */
const GQL_MODULE_OPTIONS = 'GqlModuleOptions';

/** What the audit needs to know of the app's GraphQL module(s), read once their options exist (onModuleInit). */
export interface GraphqlFacts {
  /** Nest runs guards on field resolvers (`fieldResolverEnhancers` includes `'guards'`), in every GraphQL module of the app. */
  readonly fieldResolverGuards: boolean;
  /** A federation subgraph (a federation driver, or `autoSchemaFile: { federation }`): `_entities` reaches types without any Query. */
  readonly federated: boolean;
  /** Root types a schema-first `schema { query: … }` names otherwise than Query / Mutation / Subscription (Nest runs no guard on them without the enhancer). */
  readonly customRoots: ReadonlySet<string>;
}

interface GqlOptionsLike {
  fieldResolverEnhancers?: unknown;
  driver?: { name?: unknown };
  autoSchemaFile?: unknown;
  typeDefs?: unknown;
}

/** The app's GraphQL facts; `undefined` when it has no GraphQL module. */
export function graphqlFacts(modules: ModulesContainer): GraphqlFacts | undefined {
  const all: GqlOptionsLike[] = [];
  for (const moduleRef of modules.values()) {
    const options = moduleRef.providers.get(GQL_MODULE_OPTIONS)?.instance as GqlOptionsLike | undefined | null;
    if (options !== undefined && options !== null) all.push(options);
  }
  if (all.length === 0) return undefined;
  const customRoots = new Set<string>();
  for (const options of all) for (const name of customRootNames(options.typeDefs)) customRoots.add(name);
  // The built schema is the truth (typePaths files, typeDefs split over strings); it exists once the GraphQL module's onModuleInit ran.
  for (const name of schemaRootNames(modules)) if (name !== 'Query' && name !== 'Mutation' && name !== 'Subscription') customRoots.add(name);
  return {
    fieldResolverGuards: all.every((options) => Array.isArray(options.fieldResolverEnhancers) && options.fieldResolverEnhancers.includes('guards')),
    federated: all.some(
      (options) =>
        (typeof options.driver?.name === 'string' && /Federation/.test(options.driver.name)) ||
        (typeof options.autoSchemaFile === 'object' && options.autoSchemaFile !== null && 'federation' in options.autoSchemaFile),
    ),
    customRoots,
  };
}

interface SchemaLike {
  getQueryType(): { name: string } | null | undefined;
  getMutationType(): { name: string } | null | undefined;
  getSubscriptionType(): { name: string } | null | undefined;
}

/** The root type names of every schema `@nestjs/graphql`'s `GraphQLSchemaHost` holds (none before the schemas are built). */
function schemaRootNames(modules: ModulesContainer): string[] {
  const names: string[] = [];
  for (const moduleRef of modules.values()) {
    for (const wrapper of moduleRef.providers.values()) {
      const metatype = wrapper.metatype as { name?: string } | null | undefined;
      if (metatype?.name !== 'GraphQLSchemaHost' || wrapper.instance === undefined || wrapper.instance === null) continue;
      let schema: SchemaLike | undefined;
      try {
        schema = (wrapper.instance as { schema?: SchemaLike }).schema; // its getter throws until the schema is built
      } catch {
        continue;
      }
      for (const root of [schema?.getQueryType?.(), schema?.getMutationType?.(), schema?.getSubscriptionType?.()]) if (root?.name) names.push(root.name);
    }
  }
  return names;
}

/** The root type names a `schema { query: X mutation: Y }` block of schema-first type definitions gives, other than the usual ones. */
function customRootNames(typeDefs: unknown): string[] {
  const sources = (Array.isArray(typeDefs) ? typeDefs : [typeDefs]).filter((source): source is string => typeof source === 'string');
  const names: string[] = [];
  for (const source of sources) {
    for (const block of source.matchAll(/\bschema\b[^{]*\{([^}]*)\}/g)) {
      for (const [, , name] of block[1].matchAll(/\b(query|mutation|subscription)\s*:\s*([A-Za-z_][A-Za-z0-9_]*)/g)) {
        if (name !== 'Query' && name !== 'Mutation' && name !== 'Subscription') names.push(name);
      }
    }
  }
  return names;
}
