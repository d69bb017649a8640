import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Module, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApolloDriver, ApolloFederationDriver, type ApolloDriverConfig, type ApolloFederationDriverConfig } from '@nestjs/apollo';
import { Args, Directive, Field, GraphQLModule, InterfaceType, ObjectType, Query, ResolveField, Resolver, ResolveReference } from '@nestjs/graphql';
import { DaprAuthConfigError, DaprAuthModule, DaprCallers, DaprProtected, DaprPublic, type DaprAuthModuleForRootOptions } from 'nestjs-dapr-auth';
import { errorCodes, postGraphql } from './support/graphql-test-app.js';
import { testLogger } from './support/http.js';
import { capturedOutput } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';

/**
 * GraphQL resolvers that are ways in without a checked Query or Mutation, found by outside reviews:
 * a federation subgraph's `_entities` (reference resolvers, and every field of an entity, with a
 * parent the client makes up), schema-first root types named otherwise than Query / Mutation /
 * Subscription, and the field resolvers of any type a `@DaprPublic()` Query returns, at any depth. Nest treats all of them as field resolvers and runs no guard on them unless the
 * GraphQL module has `fieldResolverEnhancers: ['guards']`: start-up says so (refuses with
 * `unprotected: 'error'`), and with the enhancer the guard decides them like any resolver.
 */

@ObjectType()
@Directive('@key(fields: "id")')
class Order {
  @Field(() => String)
  id!: string;
  @Field(() => String, { nullable: true })
  owner?: string;
}

@ObjectType()
@Directive('@key(fields: "id")')
class Invoice {
  @Field(() => String)
  id!: string;
}

@Resolver(() => Order)
@DaprCallers('checkout')
class OrderEntityResolver {
  @Query(() => Order, { nullable: true })
  order(@Args('id', { type: () => String }) id: string): Order {
    return { id, owner: 'alice (private)' };
  }

  @ResolveReference()
  resolveReference(reference: { id: string }): Order {
    return { id: reference.id, owner: 'alice (private)' };
  }
}

@Resolver(() => Invoice)
class InvoiceFieldResolver {
  /** Puts Invoice in the schema; the field below is what `_entities` reaches without it. */
  @Query(() => Invoice, { nullable: true })
  invoice(): Invoice | null {
    return null;
  }

  @ResolveField(() => String)
  amount(): string {
    return '4200 EUR (private)';
  }
}

const ENTITIES = '{ _entities(representations: [{ __typename: "Order", id: "o-1" }]) { ... on Order { id owner } } }';
const INVOICE = '{ _entities(representations: [{ __typename: "Invoice", id: "i-9" }]) { ... on Invoice { amount } } }';

/** The same schema in a .graphql file, as `typePaths` reads it. */
const FIXTURE_GLOB = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/graphql/*.graphql');

/** Schema-first, with its own root type names. */
const CUSTOM_ROOTS = 'schema { query: RootQuery } type RootQuery { secret: String hello: String }';

@Resolver('RootQuery')
class CustomRootResolver {
  @ResolveField('secret')
  secret(): string {
    return 'top secret';
  }
}

/** Reached through a public Query, two levels down: Info.featured is an Item, whose `secret` has a field resolver. */
@ObjectType()
class Item {
  @Field(() => String)
  id!: string;
}
@ObjectType()
class Info {
  @Field(() => String)
  version!: string;
  @Field(() => Item)
  featured!: Item;
}
/** Only a protected Query returns it: its field resolver is not a way in. */
@ObjectType()
class Account {
  @Field(() => String)
  id!: string;
}

@Resolver(() => Info)
class PublicInfoResolver {
  @DaprPublic()
  @Query(() => Info)
  info(): Info {
    return { version: '1', featured: { id: 'f-1' } };
  }

  @ResolveField(() => String)
  internalNotes(): string {
    return 'internal notes (private)';
  }
}
@Resolver(() => Item)
class ItemFieldResolver {
  @Query(() => Item, { nullable: true })
  item(): Item {
    return { id: 'i-1' };
  }

  @ResolveField(() => String)
  secret(): string {
    return 'item secret (private)';
  }
}
@Resolver(() => Account)
class AccountResolver {
  @Query(() => Account)
  account(): Account {
    return { id: 'a-1' };
  }

  @ResolveField(() => String)
  balance(): string {
    return '42 (private)';
  }
}
const THROUGH_PUBLIC = '{ info { version internalNotes featured { id secret } } }';

/** An interface's field resolver, which Nest gives every implementing type: reached through a public Query of a concrete type. */
@InterfaceType()
abstract class Node {
  @Field(() => String)
  id!: string;
}
@ObjectType({ implements: () => [Node] })
class Thing implements Node {
  @Field(() => String)
  id!: string;
}
@Resolver(() => Node)
class NodeResolver {
  @ResolveField(() => String)
  nodeNotes(): string {
    return 'node notes (private)';
  }
}
@Resolver(() => Thing)
class PublicThingResolver {
  @DaprPublic()
  @Query(() => Thing)
  publicThing(): Thing {
    return { id: 't-1' };
  }
}

/** `@ResolveField()` on the type named Query: a root field to Nest, which runs guards on it. */
@Resolver('Query')
class QueryFieldResolver {
  @DaprProtected()
  @ResolveField('hello')
  hello(): string {
    return 'hello';
  }
}

describe('GraphQL ways in without a Query (Apollo on Express)', () => {
  const apps: INestApplication[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  async function start(graphql: ReturnType<typeof GraphQLModule.forRoot>, resolvers: Type[], options: DaprAuthModuleForRootOptions): Promise<string> {
    @Module({
      imports: [graphql, DaprAuthModule.forRoot({ token: TOKEN, rejectionLogLimit: false, allowForgeableCallers: true, ...options })],
      providers: resolvers,
    })
    class WaysInModule {}
    const app = await NestFactory.create(WaysInModule, { logger: testLogger(['fatal', 'error', 'warn', 'log']), abortOnError: false });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  }

  const federation = (fieldGuards: boolean) =>
    GraphQLModule.forRoot<ApolloFederationDriverConfig>({
      driver: ApolloFederationDriver,
      autoSchemaFile: { federation: 2 },
      ...(fieldGuards ? { fieldResolverEnhancers: ['guards' as const] } : {}),
    });

  describe('a federation subgraph', () => {
    it("without fieldResolverEnhancers: start-up lists _entities' reference and entity field resolvers as open, even with global: true", async () => {
      const baseUrl = await start(federation(false), [OrderEntityResolver, InvoiceFieldResolver], { global: true });
      const output = capturedOutput();
      expect(output).toContain('GraphQL resolvers reachable without a checked Query or Mutation, on which Nest runs no guard');
      expect(output).toContain('- GraphQL field Order.__resolveReference (OrderEntityResolver.resolveReference)');
      expect(output).toContain('- GraphQL field Invoice.amount (InvoiceFieldResolver.amount)');
      // What the warning is about: _entities answers without a token, while the Query refuses.
      expect(errorCodes(await postGraphql(baseUrl, '{ order(id: "o-1") { id owner } }'))).toEqual({ order: 'UNAUTHENTICATED' });
      expect((await postGraphql(baseUrl, ENTITIES)).json.data).toEqual({ _entities: [{ id: 'o-1', owner: 'alice (private)' }] });
    });

    it("and unprotected: 'error' refuses start-up for them", async () => {
      await expect(start(federation(false), [OrderEntityResolver, InvoiceFieldResolver], { global: true, unprotected: 'error' })).rejects.toThrow(
        DaprAuthConfigError,
      );
    });

    it('with fieldResolverEnhancers and global: true, _entities needs the token, and a class-level caller rule holds there too', async () => {
      const baseUrl = await start(federation(true), [OrderEntityResolver, InvoiceFieldResolver], { global: true, unprotected: 'error' });
      expect(capturedOutput()).not.toContain('reachable without a checked Query or Mutation');
      expect((await postGraphql(baseUrl, ENTITIES)).json.data).toEqual({ _entities: [null] });
      // amount is non-null: its refusal nulls the entity.
      const invoice = await postGraphql(baseUrl, INVOICE);
      expect(invoice.json.data).toEqual({ _entities: [null] });
      expect(errorCodes(invoice)).toEqual({ '_entities.0.amount': 'UNAUTHENTICATED' });
      const other = await postGraphql(baseUrl, ENTITIES, { 'dapr-api-token': TOKEN, 'dapr-caller-app-id': 'billing' });
      expect(other.json.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      const checkout = await postGraphql(baseUrl, ENTITIES, { 'dapr-api-token': TOKEN, 'dapr-caller-app-id': 'checkout' });
      expect(checkout.json.data).toEqual({ _entities: [{ id: 'o-1', owner: 'alice (private)' }] });
      expect((await postGraphql(baseUrl, INVOICE, { 'dapr-api-token': TOKEN })).json.data).toEqual({ _entities: [{ amount: '4200 EUR (private)' }] });
    });
  });

  describe('field resolvers under a @DaprPublic() Query (third outside review)', () => {
    const codeFirst = (fieldGuards: boolean) =>
      GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        ...(fieldGuards ? { fieldResolverEnhancers: ['guards' as const] } : {}),
      });
    const resolvers = [PublicInfoResolver, ItemFieldResolver, AccountResolver];

    it('without fieldResolverEnhancers: start-up lists every field resolver the public Query reaches, at any depth, and only those', async () => {
      const baseUrl = await start(codeFirst(false), resolvers, { global: true });
      const output = capturedOutput();
      expect(output).toContain('GraphQL resolvers reachable without a checked Query or Mutation, on which Nest runs no guard');
      expect(output).toContain('- GraphQL field Info.internalNotes (PublicInfoResolver.internalNotes)');
      expect(output).toContain('- GraphQL field Item.secret (ItemFieldResolver.secret)');
      expect(output).not.toContain('Account.balance');
      // What the warning is about: the public Query hands out both fields without a token.
      expect((await postGraphql(baseUrl, THROUGH_PUBLIC)).json.data).toEqual({
        info: { version: '1', internalNotes: 'internal notes (private)', featured: { id: 'f-1', secret: 'item secret (private)' } },
      });
      expect(errorCodes(await postGraphql(baseUrl, '{ account { id balance } }'))).toEqual({ account: 'UNAUTHENTICATED' });
    });

    it("a rule on a field resolver only a protected Query reaches is not a way in, but a rule Nest never runs: refused with unprotected: 'error'", async () => {
      @Resolver(() => Account)
      class GuardedBalance {
        @DaprProtected()
        @ResolveField(() => String)
        balance(): string {
          return '42 (private)';
        }
      }
      await expect(start(codeFirst(false), [AccountResolver, GuardedBalance], { global: true, unprotected: 'error' })).rejects.toThrow(
        /^(?![\s\S]*reachable without a checked Query)[\s\S]*Guards on GraphQL field resolvers that Nest never runs[\s\S]*GuardedBalance\.balance/,
      );
    });

    it("an interface's field resolver, reached through a public Query of a type implementing it, is listed (second re-check)", async () => {
      const baseUrl = await start(codeFirst(false), [NodeResolver, PublicThingResolver], { global: true });
      expect(capturedOutput()).toContain('- GraphQL field Node.nodeNotes (NodeResolver.nodeNotes)');
      expect((await postGraphql(baseUrl, '{ publicThing { id nodeNotes } }')).json.data).toEqual({
        publicThing: { id: 't-1', nodeNotes: 'node notes (private)' },
      });
    });

    it("and unprotected: 'error' refuses start-up for them", async () => {
      await expect(start(codeFirst(false), resolvers, { global: true, unprotected: 'error' })).rejects.toThrow(
        /reachable without a checked Query or Mutation[\s\S]*- GraphQL field Item\.secret \(ItemFieldResolver\.secret\)/,
      );
    });

    it('with fieldResolverEnhancers and global: true, the public Query answers and its fields with resolvers need the token', async () => {
      const baseUrl = await start(codeFirst(true), resolvers, { global: true, unprotected: 'error' });
      expect(capturedOutput()).not.toContain('reachable without a checked Query or Mutation');
      const anonymous = await postGraphql(baseUrl, '{ info { version internalNotes } }');
      expect(anonymous.json.data).toBeNull(); // internalNotes and info are non-null: the refusal nulls the whole answer
      expect(errorCodes(anonymous)).toEqual({ 'info.internalNotes': 'UNAUTHENTICATED' });
      expect((await postGraphql(baseUrl, '{ info { version } }')).json.data).toEqual({ info: { version: '1' } });
      expect((await postGraphql(baseUrl, THROUGH_PUBLIC, { 'dapr-api-token': TOKEN })).json.data).toEqual({
        info: { version: '1', internalNotes: 'internal notes (private)', featured: { id: 'f-1', secret: 'item secret (private)' } },
      });
    });
  });

  describe('schema-first root types', () => {
    const schemaFirst = (fieldGuards: boolean) =>
      GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        typeDefs: CUSTOM_ROOTS,
        ...(fieldGuards ? { fieldResolverEnhancers: ['guards' as const] } : {}),
      });

    it("a root type named otherwise than Query is a field resolver to Nest: listed as open, refused start-up with unprotected: 'error'", async () => {
      await expect(start(schemaFirst(false), [CustomRootResolver], { global: true, unprotected: 'error' })).rejects.toThrow(
        /reachable without a checked Query or Mutation[\s\S]*- GraphQL field RootQuery\.secret \(CustomRootResolver\.secret\)/,
      );
    });

    it.each<[string, () => ReturnType<typeof GraphQLModule.forRoot>]>([
      ['from typePaths (.graphql files)', () => GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typePaths: [FIXTURE_GLOB] })],
      [
        'from typeDefs split over strings',
        () =>
          GraphQLModule.forRoot<ApolloDriverConfig>({
            driver: ApolloDriver,
            typeDefs: ['schema {', 'query: RootQuery }', 'type RootQuery { secret: String }'],
          }),
      ],
    ])("a root type named otherwise %s is found in the built schema: refused start-up with unprotected: 'error'", async (_name, graphqlModule) => {
      await expect(start(graphqlModule(), [CustomRootResolver], { global: true, unprotected: 'error' })).rejects.toThrow(
        /reachable without a checked Query or Mutation[\s\S]*- GraphQL field RootQuery\.secret \(CustomRootResolver\.secret\)/,
      );
    });

    it('with fieldResolverEnhancers the guard decides it', async () => {
      const baseUrl = await start(schemaFirst(true), [CustomRootResolver], { global: true, unprotected: 'error' });
      expect(errorCodes(await postGraphql(baseUrl, '{ secret }'))).toEqual({ secret: 'UNAUTHENTICATED' });
      expect((await postGraphql(baseUrl, '{ secret }', { 'dapr-api-token': TOKEN })).json).toEqual({ data: { secret: 'top secret' } });
    });

    it("@ResolveField() on the type named Query is a root field: its rule runs (no false 'never runs'), and without a rule it is listed as open", async () => {
      const queryOnly = GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs: 'type Query { hello: String secret: String }' });
      @Resolver('Query')
      class OpenQueryField {
        @ResolveField('secret')
        secret(): string {
          return 'top secret';
        }
      }
      const baseUrl = await start(queryOnly, [QueryFieldResolver, OpenQueryField], { unprotected: 'warn' });
      const output = capturedOutput();
      expect(output).not.toContain('Nest never runs');
      expect(output).toContain('- GraphQL Query.secret (OpenQueryField.secret)');
      expect(errorCodes(await postGraphql(baseUrl, '{ hello }'))).toEqual({ hello: 'UNAUTHENTICATED' });
    });
  });
});
