import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Args, Field, GraphQLModule, Mutation, ObjectType, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import {
  DaprAuthModule,
  DaprCaller,
  DaprCallers,
  DaprClaims,
  DaprProtected,
  DaprPublic,
  type DaprAuthModuleForRootOptions,
  type DaprCallerIdentity,
} from 'nestjs-dapr-auth';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { send, type HttpOutcome } from './http.js';

/**
 * GraphQL test apps: code-first resolvers (explicit type functions, no schema file) behind the
 * Apollo driver on Express and Fastify, and Mercurius on Fastify, for `describe.each`.
 */
export const GRAPHQL_STACKS = [
  ['Apollo on Express', () => new ExpressAdapter(), ApolloDriver],
  ['Apollo on Fastify', () => new FastifyAdapter(), ApolloDriver],
  ['Mercurius on Fastify', () => new FastifyAdapter(), MercuriusDriver],
] as const;

export type GraphqlStack = (typeof GRAPHQL_STACKS)[number];

@ObjectType()
export class Order {
  @Field(() => String)
  id!: string;
}

/** Root fields with each rule; every field nullable, so that one refused field leaves the others' data. */
@Resolver(() => Order)
export class OrdersResolver {
  @Query(() => String, { nullable: true })
  plain(): string {
    return 'plain';
  }

  @DaprPublic()
  @Query(() => String, { nullable: true })
  publicInfo(): string {
    return 'public';
  }

  @DaprProtected()
  @Query(() => String, { nullable: true })
  protectedInfo(): string {
    return 'protected';
  }

  @DaprCallers('checkout')
  @Query(() => String, { nullable: true })
  fromCheckout(@DaprCaller() caller: DaprCallerIdentity | undefined): string {
    return `checkout:${caller?.appId}`;
  }

  @Query(() => String, { nullable: true })
  whoCalls(@DaprCaller() caller: DaprCallerIdentity | undefined): string {
    return caller === undefined ? 'nobody' : `${caller.appId}${caller.namespace ? `@${caller.namespace}` : ''}`;
  }

  @Query(() => String, { nullable: true })
  subject(@DaprClaims('sub') subject: string | undefined): string {
    return subject ?? 'no claims';
  }

  @Mutation(() => String, { nullable: true })
  placeOrder(@Args('id', { type: () => String }) id: string): string {
    return `placed:${id}`;
  }

  @DaprPublic()
  @Query(() => Order, { nullable: true })
  order(): Order {
    return { id: 'o-1' };
  }

  /** A field resolver with a rule of its own: Nest runs it only with `fieldResolverEnhancers: ['guards']`. */
  @DaprProtected()
  @ResolveField(() => String, { nullable: true })
  secret(): string {
    return 'secret';
  }
}

/** The GraphQL module for `driver`, with the driver-specific options typed for it. */
export function graphqlModule(driver: GraphqlStack[2], fieldGuards = false, context?: () => object): DynamicModule {
  const shared = { autoSchemaFile: true, ...(fieldGuards ? { fieldResolverEnhancers: ['guards' as const] } : {}), ...(context ? { context } : {}) };
  return driver === MercuriusDriver
    ? GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, ...shared })
    : GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, ...shared });
}

/** A root module with the GraphQL module for `driver`, `resolvers`, and DaprAuthModule with `options`. */
export function graphqlTestModule(
  driver: GraphqlStack[2],
  options: DaprAuthModuleForRootOptions,
  {
    resolvers = [OrdersResolver],
    fieldGuards = false,
    providers = [],
    context,
  }: { resolvers?: Type[]; fieldGuards?: boolean; providers?: Provider[]; context?: () => object } = {},
): Type {
  @Module({ imports: [graphqlModule(driver, fieldGuards, context), DaprAuthModule.forRoot(options)], providers: [...resolvers, ...providers] })
  class GraphqlTestModule {}
  return GraphqlTestModule;
}

/** What a GraphQL POST answered: the HTTP status and the parsed `{ data, errors }`. */
export interface GraphqlOutcome extends HttpOutcome {
  json: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }> };
}

/** POSTs `query` to `/graphql` as daprd delivers an invocation of method `graphql` (JSON body, the given headers). */
export async function postGraphql(baseUrl: string, query: string, headers: Record<string, string | string[]> = {}): Promise<GraphqlOutcome> {
  return (await send(baseUrl, '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  })) as GraphqlOutcome;
}

/** The `extensions.code` of each error, by path (`plain: UNAUTHENTICATED`). */
export function errorCodes(outcome: GraphqlOutcome): Record<string, unknown> {
  return Object.fromEntries((outcome.json.errors ?? []).map((error) => [error.path?.join('.') ?? '(request)', error.extensions?.code]));
}
