import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException, type INestApplication } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { GqlExecutionContext, Mutation, Query, Resolver } from '@nestjs/graphql';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DaprAuthConfigError, daprOr, DaprOrAppGuard, DaprProtected, DaprPublic, type DaprAuthModuleForRootOptions } from 'nestjs-dapr-auth';
import { daprAuthExpressMiddleware, daprAuthFastifyHook } from 'nestjs-dapr-auth/standalone';
import { errorCodes, GRAPHQL_STACKS, graphqlTestModule, OrdersResolver, postGraphql, type GraphqlStack } from './support/graphql-test-app.js';
import { testLogger } from './support/http.js';
import { AUDIENCE, ISSUER, signingKey } from './support/jwt.js';
import { capturedOutput } from './support/secrets.js';
import { PREVIOUS_TOKEN, TOKEN, WRONG_TOKEN } from './support/tokens.js';

/** An app's own user guard as GraphQL apps write one: it reads the request through GqlExecutionContext (a user is `x-user: alice`). */
@Injectable()
class GqlUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = GqlExecutionContext.create(context).getContext<{ req: { headers: Record<string, string | undefined> } }>().req;
    if (request.headers['x-user'] === 'alice') return true;
    throw new UnauthorizedException('no user');
  }
}

/** A public mutation that takes 300 ms: what keeps a client's operation in flight while another request arrives. */
@Resolver()
class SlowResolver {
  @DaprPublic()
  @Mutation(() => String)
  async wait(): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return 'waited';
  }
}

/** Resolvers beside the app's own guard: one Dapr-only, one daprd or a user, one users only. */
@Resolver()
class MixedResolver {
  @DaprProtected()
  @Query(() => String, { nullable: true })
  daprOnly(): string {
    return 'dapr';
  }

  @DaprOrAppGuard()
  @Query(() => String, { nullable: true })
  daprOrUser(): string {
    return 'either';
  }

  @Query(() => String, { nullable: true })
  usersOnly(): string {
    return 'user';
  }
}

/**
 * GraphQL resolvers behind DaprAuthGuard, on every driver and platform pair: daprd invokes method
 * `graphql` as a plain HTTP POST with the token and caller headers, so the guard reads them from the
 * request in the GraphQL context. The drivers answer HTTP 200 with `{ data, errors }`: a refused
 * field is `null` with an error coded UNAUTHENTICATED (401) or FORBIDDEN (403), and the other fields
 * of the operation are answered.
 */
describe.each(GRAPHQL_STACKS)('GraphQL: %s', (_stack, platform, driver) => {
  const apps: INestApplication[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  async function start(
    options: DaprAuthModuleForRootOptions,
    extra: Parameters<typeof graphqlTestModule>[2] = {},
    before?: (app: INestApplication) => void,
  ): Promise<string> {
    const app = await NestFactory.create(
      graphqlTestModule(driver, { rejectionLogLimit: false, allowForgeableCallers: true, ...options }, extra) as never,
      platform() as never,
      {
        logger: testLogger(),
        abortOnError: false,
      },
    );
    apps.push(app);
    before?.(app);
    await app.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  }

  describe('global: true', () => {
    let baseUrl: string;
    beforeAll(async () => {
      baseUrl = await start({ token: [TOKEN, PREVIOUS_TOKEN], global: true, allowForgeableCallers: true });
    });

    it('answers a resolver without any decorator when the token is right (either accepted token)', async () => {
      expect((await postGraphql(baseUrl, '{ plain }', { 'dapr-api-token': TOKEN })).json).toEqual({ data: { plain: 'plain' } });
      expect((await postGraphql(baseUrl, '{ plain }', { 'dapr-api-token': PREVIOUS_TOKEN })).json).toEqual({ data: { plain: 'plain' } });
    });

    it.each([
      ['missing', {}],
      ['wrong', { 'dapr-api-token': WRONG_TOKEN }],
      ['sent twice', { 'dapr-api-token': [TOKEN, TOKEN] }],
      ['in Authorization', { authorization: `Bearer ${TOKEN}` }],
      ['missing, with a forged caller', { 'dapr-caller-app-id': 'checkout' }],
    ])('refuses a token %s: the field is null with UNAUTHENTICATED, HTTP 200, nothing of the token in the answer', async (_case, headers) => {
      const outcome = await postGraphql(baseUrl, '{ plain }', headers as Record<string, string>);
      expect(outcome.status).toBe(200);
      expect(outcome.json.data).toEqual({ plain: null });
      expect(errorCodes(outcome)).toEqual({ plain: 'UNAUTHENTICATED' });
      expect(outcome.json.errors?.[0].message).toBe('Unauthorized');
      expect(outcome.body).not.toContain(TOKEN.slice(0, 12));
    });

    it('refuses a mutation without the token and runs it with the token', async () => {
      const refused = await postGraphql(baseUrl, 'mutation { placeOrder(id: "o-7") }');
      expect(errorCodes(refused)).toEqual({ placeOrder: 'UNAUTHENTICATED' });
      expect(refused.json.data).toEqual({ placeOrder: null });
      const placed = await postGraphql(baseUrl, 'mutation { placeOrder(id: "o-7") }', { 'dapr-api-token': TOKEN });
      expect(placed.json).toEqual({ data: { placeOrder: 'placed:o-7' } });
    });

    it('lets a @DaprPublic() field through without a token, and answers it beside a refused one', async () => {
      const outcome = await postGraphql(baseUrl, '{ publicInfo plain }');
      expect(outcome.json.data).toEqual({ publicInfo: 'public', plain: null });
      expect(errorCodes(outcome)).toEqual({ plain: 'UNAUTHENTICATED' });
    });

    it('logs the rejection with the schema field and the reason, never the token', async () => {
      await postGraphql(baseUrl, '{ alias: plain }', { 'dapr-api-token': WRONG_TOKEN });
      const output = capturedOutput();
      expect(output).toContain('Rejected GraphQL Query.plain (OrdersResolver.plain): token mismatch');
      expect(output).not.toContain('alias');
    });

    it('@DaprCallers: only the listed caller app, refused with FORBIDDEN otherwise', async () => {
      const checkout = await postGraphql(baseUrl, '{ fromCheckout }', { 'dapr-api-token': TOKEN, 'dapr-caller-app-id': 'checkout' });
      expect(checkout.json).toEqual({ data: { fromCheckout: 'checkout:checkout' } });
      const callers: Array<Record<string, string | string[]>> = [{ 'dapr-caller-app-id': 'billing' }, {}, { 'dapr-caller-app-id': ['checkout', 'checkout'] }];
      for (const caller of callers) {
        const outcome = await postGraphql(baseUrl, '{ fromCheckout }', { 'dapr-api-token': TOKEN, ...caller });
        expect(errorCodes(outcome)).toEqual({ fromCheckout: 'FORBIDDEN' });
        expect(outcome.json.errors?.[0].message).toBe('Forbidden');
      }
      // The token comes first: a listed caller without it is UNAUTHENTICATED.
      expect(errorCodes(await postGraphql(baseUrl, '{ fromCheckout }', { 'dapr-caller-app-id': 'checkout' }))).toEqual({ fromCheckout: 'UNAUTHENTICATED' });
    });

    it('@DaprCaller() gives a resolver the caller daprd stamped, for this request only', async () => {
      const outcome = await postGraphql(baseUrl, '{ whoCalls }', {
        'dapr-api-token': TOKEN,
        'dapr-caller-app-id': 'checkout',
        'dapr-caller-namespace': 'shop',
      });
      expect(outcome.json).toEqual({ data: { whoCalls: 'checkout@shop' } });
      expect((await postGraphql(baseUrl, '{ whoCalls }', { 'dapr-api-token': TOKEN })).json).toEqual({ data: { whoCalls: 'nobody' } });
    });

    it('answers introspection without a token: no resolver runs for it, so no guard does (see docs/graphql.md)', async () => {
      const outcome = await postGraphql(baseUrl, '{ __schema { queryType { name } } }');
      expect(outcome.json).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    });
  });

  it('@DaprClaims() gives a resolver the verified JWT claims (option jwt)', async () => {
    const key = await signingKey('ES256');
    const baseUrl = await start({ global: true, jwt: { ...key.keySource, algorithms: ['ES256'], issuer: ISSUER, audience: AUDIENCE } });
    const jwt = await key.sign({ sub: 'orders-app' });
    expect((await postGraphql(baseUrl, '{ subject }', { 'dapr-api-token': jwt })).json).toEqual({ data: { subject: 'orders-app' } });
    const forged = await postGraphql(baseUrl, '{ subject }', { 'dapr-api-token': `${jwt.slice(0, -4)}AAAA` });
    expect(errorCodes(forged)).toEqual({ subject: 'UNAUTHENTICATED' });
  });

  it('without global: @DaprProtected() on a resolver checks it, and a resolver without a rule is open', async () => {
    const baseUrl = await start({ token: TOKEN });
    expect(errorCodes(await postGraphql(baseUrl, '{ protectedInfo }'))).toEqual({ protectedInfo: 'UNAUTHENTICATED' });
    expect((await postGraphql(baseUrl, '{ protectedInfo }', { 'dapr-api-token': TOKEN })).json).toEqual({ data: { protectedInfo: 'protected' } });
    expect((await postGraphql(baseUrl, '{ plain }')).json).toEqual({ data: { plain: 'plain' } });
    expect(capturedOutput()).toContain(
      'handler(s) without DaprAuthGuard, open to anyone who reaches the port:\n  - GraphQL Query.plain (OrdersResolver.plain)',
    );
  });

  it("unprotected: 'error' refuses start-up and lists the open resolvers", async () => {
    const failure = start({ token: TOKEN, unprotected: 'error' });
    await expect(failure).rejects.toThrow(DaprAuthConfigError);
    const message = ((await failure.catch((error: unknown) => error)) as Error).message;
    expect(message).toContain('- GraphQL Query.plain (OrdersResolver.plain)');
    expect(message).toContain('- GraphQL Mutation.placeOrder (OrdersResolver.placeOrder)');
    expect(message).not.toContain('Query.publicInfo');
    expect(message).not.toContain('Query.protectedInfo');
  });

  describe("the app's own context function", () => {
    it('a new object per request: the guard reads each request', async () => {
      const services = { orders: 'db' };
      const baseUrl = await start({ token: TOKEN, global: true }, { context: () => ({ services }) });
      expect((await postGraphql(baseUrl, '{ plain }', { 'dapr-api-token': TOKEN })).json).toEqual({ data: { plain: 'plain' } });
      expect(errorCodes(await postGraphql(baseUrl, '{ plain }'))).toEqual({ plain: 'UNAUTHENTICATED' });
      expect((await postGraphql(baseUrl, '{ plain }', { 'dapr-api-token': TOKEN })).json).toEqual({ data: { plain: 'plain' } });
    });

    it("one object shared by every request (its req is the first request's): never lets a later request through on the first one's token", async () => {
      const shared = { services: { orders: 'db' } };
      const baseUrl = await start({ token: TOKEN, global: true, allowForgeableCallers: true }, { context: () => shared });
      // daprd's call first, so that the shared context holds a request with the right token and caller...
      await postGraphql(baseUrl, '{ plain }', { 'dapr-api-token': TOKEN, 'dapr-caller-app-id': 'checkout' });
      // ...then a client with neither, which Mercurius answered with the first request's decision.
      expect(errorCodes(await postGraphql(baseUrl, '{ plain }'))).toEqual({ plain: 'UNAUTHENTICATED' });
      expect(errorCodes(await postGraphql(baseUrl, 'mutation { placeOrder(id: "x") }'))).toEqual({ placeOrder: 'UNAUTHENTICATED' });
      expect(errorCodes(await postGraphql(baseUrl, '{ fromCheckout }', { 'dapr-api-token': WRONG_TOKEN }))).toEqual({ fromCheckout: 'UNAUTHENTICATED' });
      const lines = capturedOutput().match(/The GraphQL context holds another request than the one being served/g) ?? [];
      // Where a driver keeps one request for all (Mercurius), one error line names the fix; Apollo copies the context per request.
      expect(lines.length).toBeLessThanOrEqual(1);
    });
  });

  it("a context function writing each request into one shared object: a later request is never answered on another's token", async () => {
    const shared: { services: object; req?: unknown } = { services: {} };
    const baseUrl = await start(
      { token: TOKEN, global: true, allowForgeableCallers: true },
      {
        resolvers: [OrdersResolver, SlowResolver],
        context: ((request: { req?: unknown } | unknown) => {
          // Apollo on Express hands { req, res }, Fastify and Mercurius the request itself.
          shared.req = (request as { req?: unknown }).req ?? request;
          return shared;
        }) as () => object,
      },
    );
    // The client's mutation first waits in a public field (mutations run one after the other); daprd's call arrives meanwhile.
    const client = postGraphql(baseUrl, 'mutation { wait placeOrder(id: "c-1") }');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await postGraphql(baseUrl, '{ plain }', { 'dapr-api-token': TOKEN, 'dapr-caller-app-id': 'checkout' });
    const answered = await client;
    expect(answered.json.data).toEqual({ wait: 'waited', placeOrder: null });
    expect(errorCodes(answered)).toEqual({ placeOrder: 'UNAUTHENTICATED' });
  });

  describe('field resolvers', () => {
    it("a rule on a @ResolveField() that Nest never runs (no fieldResolverEnhancers: ['guards']) is a warning, the field resolves", async () => {
      const baseUrl = await start({ token: TOKEN, global: true });
      const output = capturedOutput();
      expect(output).toContain(
        'Guards on GraphQL field resolvers that Nest never runs (they resolve without any check):\n  - GraphQL field Order.secret (OrdersResolver.secret)',
      );
      // Order comes from the @DaprPublic() Query order: its field is open to anyone, and listed so.
      expect(output).toContain('reachable without a checked Query or Mutation, on which Nest runs no guard');
      expect((await postGraphql(baseUrl, '{ order { id secret } }')).json).toEqual({ data: { order: { id: 'o-1', secret: 'secret' } } });
    });

    it("and refuses start-up with unprotected: 'error'", async () => {
      await expect(start({ token: TOKEN, global: true, unprotected: 'error' })).rejects.toThrow(
        /reachable without a checked Query or Mutation[\s\S]*- GraphQL field Order\.secret \(OrdersResolver\.secret\)[\s\S]*fieldResolverEnhancers/,
      );
    });

    it("with fieldResolverEnhancers: ['guards'] the field's rule runs: null and UNAUTHENTICATED without the token", async () => {
      const baseUrl = await start({ token: TOKEN, global: true, unprotected: 'error' }, { fieldGuards: true });
      const refused = await postGraphql(baseUrl, '{ order { id secret } }');
      expect(refused.json.data).toEqual({ order: { id: 'o-1', secret: null } });
      expect(errorCodes(refused)).toEqual({ 'order.secret': 'UNAUTHENTICATED' });
      expect((await postGraphql(baseUrl, '{ order { id secret } }', { 'dapr-api-token': TOKEN })).json).toEqual({
        data: { order: { id: 'o-1', secret: 'secret' } },
      });
    });
  });

  it('the standalone check in front of the GraphQL path refuses everything without the token, introspection included', async () => {
    const baseUrl = await start({ token: TOKEN, global: true }, {}, (app) => {
      if (platform().constructor.name === 'ExpressAdapter') {
        (app as NestExpressApplication).use('/graphql', daprAuthExpressMiddleware({ token: TOKEN }));
      } else {
        const hook = daprAuthFastifyHook({ token: TOKEN });
        (app as NestFastifyApplication)
          .getHttpAdapter()
          .getInstance()
          .addHook('onRequest', (request, reply, done) => {
            if (request.url.split('?')[0] === '/graphql') return hook(request, reply, done);
            done();
          });
      }
    });
    const introspection = await postGraphql(baseUrl, '{ __schema { queryType { name } } }');
    expect(introspection.status).toBe(401);
    expect(introspection.json).toEqual({ message: 'Unauthorized', statusCode: 401 });
    expect((await postGraphql(baseUrl, '{ plain }', { 'dapr-api-token': TOKEN })).json).toEqual({ data: { plain: 'plain' } });
  });

  it("beside the app's own guard (daprOr(GqlUserGuard) as APP_GUARD): each resolver's rule decides who passes, nothing passes that neither accepts", async () => {
    const baseUrl = await start({ token: TOKEN }, { resolvers: [MixedResolver], providers: [{ provide: APP_GUARD, useClass: daprOr(GqlUserGuard) }] });
    // The field's value, or whose refusal it was: the Dapr check's ("Unauthorized") or the app's guard's ("no user").
    const ask = async (field: string, headers: Record<string, string>) => {
      const outcome = await postGraphql(baseUrl, `{ ${field} }`, headers);
      return outcome.json.data?.[field] ?? outcome.json.errors?.[0].message;
    };
    const dapr = { 'dapr-api-token': TOKEN };
    const user = { 'x-user': 'alice' };
    const wrong = { 'dapr-api-token': WRONG_TOKEN };
    // Dapr-only: the Dapr check alone decides (daprOr() steps aside; a user is refused).
    expect([await ask('daprOnly', {}), await ask('daprOnly', dapr), await ask('daprOnly', user), await ask('daprOnly', wrong)]).toEqual([
      'Unauthorized',
      'dapr',
      'Unauthorized',
      'Unauthorized',
    ]);
    // daprd or a user: a verified Dapr call, else the app's guard, whose refusal stands.
    expect([await ask('daprOrUser', {}), await ask('daprOrUser', dapr), await ask('daprOrUser', user), await ask('daprOrUser', wrong)]).toEqual([
      'no user',
      'either',
      'either',
      'no user',
    ]);
    // No rule of ours: the app's guard alone (a Dapr token is nothing to it).
    expect([await ask('usersOnly', {}), await ask('usersOnly', dapr), await ask('usersOnly', user)]).toEqual(['no user', 'no user', 'user']);
  });
});

describe('GraphQL: the start-up line and audit', () => {
  const [, platform, driver] = GRAPHQL_STACKS[0] as GraphqlStack;

  @Resolver()
  class OnlyProtected {
    @DaprProtected()
    @Query(() => String, { nullable: true })
    ping(): string {
      return 'pong';
    }
  }

  it('counts the resolvers (not field resolvers) in the start-up line', async () => {
    const app = await NestFactory.create(
      graphqlTestModule(driver, { token: TOKEN, global: true, allowForgeableCallers: true }, { resolvers: [OrdersResolver, OnlyProtected] }) as never,
      platform() as never,
      {
        logger: testLogger(['fatal', 'error', 'warn', 'log']),
        abortOnError: false,
      },
    );
    try {
      await app.init();
      expect(capturedOutput()).toMatch(/0 HTTP route\(s\), 0 gRPC \/ message handler\(s\), 9 GraphQL resolver\(s\)/);
    } finally {
      await app.close();
    }
  });
});
