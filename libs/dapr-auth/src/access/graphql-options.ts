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
  /**
   * The names of the types reachable, at any depth, from the given root fields (what they return,
   * the types of those types' fields, an interface's implementations, a union's members, and the
   * interfaces a reached type implements, whose field resolvers Nest gives it), read from
   * the built schema(s); `undefined` when no built schema was found (then assume every type).
   */
  typesReachableFrom(rootFields: ReadonlyArray<{ readonly type: string; readonly field: string }>): ReadonlySet<string> | undefined;
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
  const schemas = builtSchemas(modules);
  for (const schema of schemas) {
    for (const root of [schema.getQueryType?.(), schema.getMutationType?.(), schema.getSubscriptionType?.()]) {
      const name = root?.name;
      if (name && name !== 'Query' && name !== 'Mutation' && name !== 'Subscription') customRoots.add(name);
    }
  }
  return {
    fieldResolverGuards: all.every((options) => Array.isArray(options.fieldResolverEnhancers) && options.fieldResolverEnhancers.includes('guards')),
    federated: all.some(
      (options) =>
        (typeof options.driver?.name === 'string' && /Federation/.test(options.driver.name)) ||
        (typeof options.autoSchemaFile === 'object' && options.autoSchemaFile !== null && 'federation' in options.autoSchemaFile),
    ),
    customRoots,
    typesReachableFrom: (rootFields) => (schemas.length === 0 ? undefined : typesReachable(schemas, rootFields)),
  };
}

/** What the audit reads of a graphql-js type (`graphql` is an optional peer: not imported). */
interface TypeLike {
  readonly name?: string;
  /** A list or non-null wrapper's inner type. */
  readonly ofType?: TypeLike;
  /** Object and interface types. */
  getFields?(): Record<string, { type: TypeLike }>;
  /** Union types. */
  getTypes?(): readonly TypeLike[];
  /** Object and interface types: the interfaces they implement. */
  getInterfaces?(): readonly TypeLike[];
}

interface SchemaLike {
  getQueryType(): TypeLike | null | undefined;
  getMutationType(): TypeLike | null | undefined;
  getSubscriptionType(): TypeLike | null | undefined;
  getType(name: string): TypeLike | null | undefined;
  /** graphql 15.x and later: an interface's implementations (empty for any other type). */
  getImplementations?(type: TypeLike): { objects: readonly TypeLike[]; interfaces: readonly TypeLike[] };
}

/** Every type reachable from the root fields, by a walk over each schema's type graph (each type once). */
function typesReachable(schemas: readonly SchemaLike[], rootFields: ReadonlyArray<{ readonly type: string; readonly field: string }>): ReadonlySet<string> {
  const reached = new Set<string>();
  for (const schema of schemas) {
    const pending: TypeLike[] = [];
    for (const { type, field } of rootFields) {
      const returned = schema.getType(type)?.getFields?.()[field]?.type;
      if (returned) pending.push(returned);
    }
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      let type: TypeLike = next;
      while (type.ofType) type = type.ofType;
      if (!type.name || reached.has(type.name)) continue;
      reached.add(type.name);
      if (typeof type.getFields === 'function') for (const field of Object.values(type.getFields())) pending.push(field.type);
      if (typeof type.getTypes === 'function') pending.push(...type.getTypes());
      // Upwards too: Nest gives an interface's @ResolveField() resolvers to every type implementing it.
      if (typeof type.getInterfaces === 'function') pending.push(...type.getInterfaces());
      const implementations = schema.getImplementations?.(type);
      if (implementations) pending.push(...implementations.objects, ...implementations.interfaces);
    }
  }
  return reached;
}

/** Every schema `@nestjs/graphql`'s `GraphQLSchemaHost` holds (none before the schemas are built). */
function builtSchemas(modules: ModulesContainer): SchemaLike[] {
  const schemas: SchemaLike[] = [];
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
      if (schema && typeof schema.getType === 'function') schemas.push(schema);
    }
  }
  return schemas;
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
