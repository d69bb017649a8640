import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { DaprServer, HttpMethod, LogLevel } from '@dapr/dapr';
import type { Express } from 'express';
import { daprAuthExpressMiddleware } from 'nestjs-dapr-auth/standalone';
import type { Daprd } from '../../scripts/dapr/daprd-process.mjs';
import { send } from '../support/http.js';
import { freePort } from '../support/ports.js';
import { findLeak } from '../support/secrets.js';
import { TOKEN, WRONG_TOKEN } from '../support/tokens.js';
import { DaprFleet, eventually, type SeenRequest } from './harness.js';

/**
 * `@dapr/dapr`'s DaprServer (what @rayondigital/nest-dapr, @dbc-tech/nest-dapr and the SDK's
 * tutorials deliver pub/sub, bindings, actors and invocation through) behind a real daprd, with
 * `daprAuthExpressMiddleware` installed first on the Express app it is given as `serverHttp`.
 *
 * DaprServer takes that app as its server (`HTTPServer`: `options.serverHttp ?? express()`), adds its
 * body parsers to it in its constructor, and adds each route when it is subscribed or listened to
 * (`HTTPServerImpl.registerPubsubSubscription` calls `server.post`, `HTTPServerInvoker.listen`
 * `server[method]`) and `GET /dapr/subscribe` in `start()`: all after the middleware.
 */

const fleet = new DaprFleet();
const withDaprdLogs = (body: () => Promise<void>) => fleet.withLogs(body);
// Express 4, what @dapr/dapr ships (installed as the alias express4).
const express = createRequire(import.meta.url)('express4') as () => Express;
const APP_ID = 'daprsrv';
const UNAUTHORIZED_BODY = { message: 'Unauthorized', statusCode: 401 };

describe('a DaprServer app behind a real daprd, with the middleware on its serverHttp app', () => {
  const daprEnv = { DAPR_SERVER_PORT: process.env.DAPR_SERVER_PORT, DAPR_CLIENT_PORT: process.env.DAPR_CLIENT_PORT };
  let server: DaprServer;
  let http: Server | undefined;
  let sidecar: Daprd;
  let appUrl: string;
  const delivered: unknown[] = [];
  const invoked: unknown[] = [];
  const seen: SeenRequest[] = [];

  beforeAll(async () => {
    const app = express();
    app.use(daprAuthExpressMiddleware({ token: TOKEN, logRejections: 'warn', rejectionLogLimit: false }));
    app.get('/healthz', (_req, res) => {
      res.json({ status: 'up' });
    });
    // DaprServer calls serverHttp.listen(port) without a host (HTTPServer.start), which binds every interface: here, loopback only.
    app.listen = ((port: number) => (http = createServer(app).listen(port, '127.0.0.1'))) as unknown as Express['listen'];
    const [appPort, daprHttpPort] = await Promise.all([freePort(), freePort()]);
    server = new DaprServer({
      serverHost: '127.0.0.1',
      serverPort: String(appPort),
      serverHttp: app,
      clientOptions: { daprHost: '127.0.0.1', daprPort: String(daprHttpPort) },
      logger: { level: LogLevel.Error },
    });
    await server.pubsub.subscribe('pubsub', 'orders', async (data: unknown) => {
      delivered.push(data);
    });
    await server.invoker.listen(
      'orders',
      async ({ body }) => {
        const order = JSON.parse(body ?? '{}') as object;
        invoked.push(order);
        return { ...order, via: 'invoker' };
      },
      { method: HttpMethod.POST },
    );
    // start(): the server listens, then its client waits for the sidecar, which needs the app listening.
    const started = server.start();
    await eventually(() => http?.listening, 'DaprServer to listen');
    http!.on('request', (req: IncomingMessage, res: ServerResponse) =>
      res.on('finish', () =>
        seen.push({ method: req.method ?? '', path: req.url ?? '', status: res.statusCode, withToken: req.headers['dapr-api-token'] === TOKEN }),
      ),
    );
    appUrl = `http://127.0.0.1:${appPort}`;
    sidecar = await fleet.daprd({ appId: APP_ID, appPort, token: TOKEN, httpPort: daprHttpPort });
    await started;
  }, 60_000);

  afterAll(async () => {
    await fleet.stopAll();
    await server?.stop();
    await server?.client.stop();
    if (http?.listening) {
      http.closeAllConnections();
      await new Promise((resolve) => http!.close(resolve));
    }
    for (const [name, value] of Object.entries(daprEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it(
    'is reported healthy by daprd, whose probe carries no token, and registers its subscription (GET /dapr/subscribe, with the token)',
    withDaprdLogs(async () => {
      expect(sidecar.logs()).toContain('App entered healthy status');
      const probes = seen.filter((request) => request.path === '/healthz');
      expect(probes.length).toBeGreaterThan(0);
      expect(probes.every((probe) => probe.status === 200 && !probe.withToken)).toBe(true);
      expect(seen).toContainEqual({ method: 'GET', path: '/dapr/subscribe', status: 200, withToken: true });
      const metadata = (await (await fetch(`${sidecar.httpUrl}/v1.0/metadata`)).json()) as { subscriptions?: Array<{ pubsubname: string; topic: string }> };
      expect(metadata.subscriptions).toEqual([expect.objectContaining({ pubsubname: 'pubsub', topic: 'orders' })]);
    }),
  );

  it(
    'receives a pub/sub message published through daprd (in-memory component) on its subscription handler',
    withDaprdLogs(async () => {
      const marker = `dapr-server-${Date.now()}`;
      const published = await fetch(`${sidecar.httpUrl}/v1.0/publish/pubsub/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ marker }),
      });
      expect(published.status).toBe(204);
      await eventually(() => delivered.some((data) => JSON.stringify(data).includes(marker)), 'the message to reach the DaprServer handler');
      expect(seen).toContainEqual({ method: 'POST', path: '/pubsub--orders--default', status: 200, withToken: true });
    }),
  );

  it(
    'receives service invocation through daprd on its invoker',
    withDaprdLogs(async () => {
      const response = await fetch(`${sidecar.httpUrl}/v1.0/invoke/${APP_ID}/method/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ item: 'tea' }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ item: 'tea', via: 'invoker' });
      expect(seen).toContainEqual({ method: 'POST', path: '/orders', status: 200, withToken: true });
    }),
  );

  it.each([
    ['no token', {}],
    ['a wrong token', { 'dapr-api-token': WRONG_TOKEN }],
    ['the token twice', { 'dapr-api-token': [TOKEN, TOKEN] }],
    ['a near miss', { 'dapr-api-token': `${TOKEN.slice(0, -1)}X` }],
  ])('refuses a direct call to the DaprServer port with %s (401): no handler runs', async (_case, headers) => {
    const [deliveredBefore, invokedBefore] = [delivered.length, invoked.length];
    const body = JSON.stringify({ data: { forged: true } });
    for (const [method, path] of [
      ['POST', '/pubsub--orders--default'],
      ['POST', '/orders'],
      ['GET', '/dapr/subscribe'],
      ['POST', '/healthz'],
    ]) {
      // A body on POSTs only: Node's own server loses a keep-alive connection after a GET body it did not read.
      const withBody = method === 'POST';
      const outcome = await send(appUrl, path, {
        method,
        headers: { ...(withBody ? { 'content-type': 'application/json' } : {}), ...(headers as Record<string, string | string[]>) },
        body: withBody ? body : undefined,
      });
      expect({ method, path, status: outcome.status, json: outcome.json }).toEqual({ method, path, status: 401, json: UNAUTHORIZED_BODY });
    }
    expect([delivered.length, invoked.length]).toEqual([deliveredBefore, invokedBefore]);
  });

  describe('a daprd with a different token', () => {
    let impostor: Daprd;
    beforeAll(async () => {
      impostor = await fleet.daprd({ appId: 'impostor', appPort: Number(new URL(appUrl).port), token: WRONG_TOKEN });
    });

    it(
      'has its invocation refused (401 to its caller, the invoker never runs) and registers no subscription',
      withDaprdLogs(async () => {
        const invokedBefore = invoked.length;
        const response = await fetch(`${impostor.httpUrl}/v1.0/invoke/impostor/method/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ item: 'forged' }),
          signal: AbortSignal.timeout(10_000),
        });
        expect(response.status).toBe(401);
        expect(await response.json()).toEqual(UNAUTHORIZED_BODY);
        expect(invoked.length).toBe(invokedBefore);
        await eventually(
          () => seen.some((request) => request.path === '/dapr/subscribe' && request.status === 401 && !request.withToken),
          "the impostor's GET /dapr/subscribe to be refused",
        );
        const metadata = (await (await fetch(`${impostor.httpUrl}/v1.0/metadata`)).json()) as { subscriptions?: unknown[] };
        expect(metadata.subscriptions ?? []).toEqual([]);
      }),
    );
  });

  it('never made daprd print a token', () => {
    for (const logs of fleet.allLogs()) expect(findLeak(logs)).toBeUndefined();
  });
});
