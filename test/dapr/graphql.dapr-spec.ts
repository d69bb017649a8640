import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DaprAuthStatus } from 'nestjs-dapr-auth';
import type { Daprd } from '../../scripts/dapr/daprd-process.mjs';
import { errorCodes, GRAPHQL_STACKS, graphqlTestModule, postGraphql, type GraphqlOutcome } from '../support/graphql-test-app.js';
import { testLogger } from '../support/http.js';
import { freePort } from '../support/ports.js';
import { TOKEN } from '../support/tokens.js';
import { DaprFleet } from './harness.js';
import { startRecordingHttpApp } from './recording-app.js';
import { eventually } from '../support/eventually.js';

/**
 * GraphQL behind a real daprd: service invocation of method `graphql` is a plain HTTP POST to the
 * app's `/graphql`, carrying the app token and the caller app id daprd stamps. Apollo on Express and
 * Mercurius on Fastify, with `global: true` and a `@DaprCallers('checkout')` resolver.
 */

const DAPR_API_TOKEN = 'dapr-api-token-for-the-graphql-suite-0123456789';
const fleet = new DaprFleet();

describe.each(GRAPHQL_STACKS.filter(([name]) => name !== 'Apollo on Fastify'))('GraphQL (%s) behind a real daprd', (_stack, platform, driver) => {
  let app: INestApplication;
  let baseUrl: string;
  let orders: Daprd;
  let checkout: Daprd;
  const others: Array<{ close: () => Promise<void> }> = [];

  beforeAll(async () => {
    const saved = { DAPR_HTTP_PORT: process.env.DAPR_HTTP_PORT, DAPR_API_TOKEN: process.env.DAPR_API_TOKEN };
    // The caller rule needs the app to know its daprd and prove it requires DAPR_API_TOKEN (read at start).
    const ordersHttpPort = await freePort();
    process.env.DAPR_HTTP_PORT = String(ordersHttpPort);
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    app = await NestFactory.create(graphqlTestModule(driver, { token: TOKEN, global: true }) as never, platform() as never, {
      logger: testLogger(),
      abortOnError: false,
    });
    await app.listen(0, '127.0.0.1');
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    const appPort = (app.getHttpServer().address() as { port: number }).port;
    baseUrl = `http://127.0.0.1:${appPort}`;
    const checkoutAppPort = await freePort();
    others.push(await startRecordingHttpApp(checkoutAppPort));
    [orders, checkout] = await Promise.all([
      fleet.daprd({ appId: 'orders', appPort, token: TOKEN, httpPort: ordersHttpPort, env: { DAPR_API_TOKEN }, healthCheckPath: false, logLevel: 'warn' }),
      fleet.daprd({ appId: 'checkout', appPort: checkoutAppPort, healthCheckPath: false, logLevel: 'warn' }),
    ]);
    await eventually(
      () => app.get(DaprAuthStatus).sidecarApi.state === 'requires-token',
      "the sidecar check to prove orders' daprd requires DAPR_API_TOKEN",
      30000,
    );
  }, 60000);

  afterAll(async () => {
    await fleet.stopAll();
    await Promise.all(others.map((other) => other.close()));
    await app?.close();
  });

  /** Invokes orders' method `graphql` through `sidecar` (its HTTP API; orders' own needs DAPR_API_TOKEN). */
  async function invoke(sidecar: Daprd, query: string, headers: Record<string, string> = {}): Promise<GraphqlOutcome> {
    const response = await fetch(`${sidecar.httpUrl}/v1.0/invoke/orders/method/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
      signal: AbortSignal.timeout(10000),
    });
    const body = await response.text();
    return { status: response.status, body, json: JSON.parse(body) as GraphqlOutcome['json'] };
  }

  it('answers a query and a mutation invoked through daprd (the token it adds), and refuses the same sent to the app directly', async () => {
    expect((await invoke(checkout, '{ plain }')).json).toEqual({ data: { plain: 'plain' } });
    expect((await invoke(checkout, 'mutation { placeOrder(id: "o-1") }')).json).toEqual({ data: { placeOrder: 'placed:o-1' } });
    const direct = await postGraphql(baseUrl, '{ plain }');
    expect(errorCodes(direct)).toEqual({ plain: 'UNAUTHENTICATED' });
  });

  it("gives a resolver the caller daprd stamped, and holds @DaprCallers('checkout') to it", async () => {
    // Self-hosted daprd stamps its namespace too ("default"), trusted over HTTP.
    expect((await invoke(checkout, '{ whoCalls fromCheckout }')).json).toEqual({ data: { whoCalls: 'checkout@default', fromCheckout: 'checkout:checkout' } });
    // Self-invocation through orders' own daprd (its API needs DAPR_API_TOKEN) carries no caller id on daprd 1.18: refused.
    const self = await invoke(orders, '{ fromCheckout }', { 'dapr-api-token': DAPR_API_TOKEN });
    expect(errorCodes(self)).toEqual({ fromCheckout: 'FORBIDDEN' });
    // The token is daprd's to add: a client's own forged caller id to the app directly is UNAUTHENTICATED.
    expect(errorCodes(await postGraphql(baseUrl, '{ fromCheckout }', { 'dapr-caller-app-id': 'checkout' }))).toEqual({ fromCheckout: 'UNAUTHENTICATED' });
  });
});
