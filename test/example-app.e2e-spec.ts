import { get } from 'node:http';
import { createRequire } from 'node:module';
import type { INestApplication } from '@nestjs/common';
import { startExampleApp } from '../src/bootstrap.js';
import { callUnary, grpc, grpcClient, tokenMetadata } from './support/grpc.js';
import { send, testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { TOKEN, WRONG_TOKEN } from './support/tokens.js';

// Dapr's own generated service descriptor (protobuf-es) as shipped in @dapr/dapr, called with the
// Connect gRPC client @dapr/dapr itself depends on: a second, independent gRPC implementation.
// (The package's *_grpc_pb.js clients expect google-protobuf classes its *_pb.js no longer has.)
const require = createRequire(import.meta.url);
const { AppCallback } = require('@dapr/dapr/proto/dapr/proto/runtime/v1/appcallback_pb.js');
const { createClient, ConnectError } = require('@connectrpc/connect');
const { createGrpcTransport } = require('@connectrpc/connect-node');

describe('the example app (src/), as daprd would call it', () => {
  let app: INestApplication;
  let httpUrl: string;
  let grpcAddress: string;
  let metricsUrl: string | undefined;
  const savedToken = process.env.APP_API_TOKEN;

  beforeAll(async () => {
    process.env.APP_API_TOKEN = TOKEN;
    // What daprd's own API requires of its clients: the example's @DaprCallers route needs it set.
    process.env.DAPR_API_TOKEN = 'example-dapr-api-token-Kq2Zr8Lm4Nx6';
    ({ app, httpUrl, grpcAddress, metricsUrl } = await startExampleApp({
      httpPort: await freePort(),
      grpcPort: await freePort(),
      metricsPort: await freePort(),
      logger: testLogger(),
    }));
  });

  afterAll(async () => {
    await app.close();
    process.env.APP_API_TOKEN = savedToken;
    delete process.env.DAPR_API_TOKEN;
  });

  const withToken = { 'dapr-api-token': TOKEN };

  describe('HTTP app channel', () => {
    it('service invocation: creates and reads an order with the token, 401 without', async () => {
      const created = await send(httpUrl, '/orders', {
        method: 'POST',
        headers: { ...withToken, 'content-type': 'application/json' },
        body: JSON.stringify({ item: 'tea', quantity: 2 }),
      });
      expect(created).toMatchObject({ status: 201, json: { item: 'tea', quantity: 2, source: 'invoke' } });
      const id = (created.json as { id: string }).id;
      expect((await send(httpUrl, `/orders/${id}`, { headers: withToken })).json).toMatchObject({ id, item: 'tea' });
      expect((await send(httpUrl, `/orders/${id}`)).status).toBe(401);
      expect((await send(httpUrl, `/orders/${id}`, { headers: { 'dapr-api-token': WRONG_TOKEN } })).status).toBe(401);
    });

    it('only the checkout app may cancel an order (@DaprCallers), as daprd would stamp it', async () => {
      const created = await send(httpUrl, '/orders', { method: 'POST', headers: { ...withToken, 'content-type': 'application/json' }, body: '{"item":"tea"}' });
      const id = (created.json as { id: string }).id;
      const cancel = (headers: Record<string, string>) => send(httpUrl, `/orders/${id}/cancel`, { method: 'POST', headers });
      expect(await cancel({ ...withToken, 'dapr-caller-app-id': 'checkout' })).toMatchObject({ status: 200, json: { id, cancelledBy: 'checkout' } });
      expect((await cancel({ ...withToken, 'dapr-caller-app-id': 'billing' })).status).toBe(403);
      expect((await cancel(withToken)).status).toBe(403);
      expect((await cancel({ 'dapr-caller-app-id': 'checkout' })).status).toBe(401);
    });

    it('exports its decisions as Prometheus metrics on their own port', async () => {
      await send(httpUrl, '/orders/1', { headers: withToken });
      await send(httpUrl, '/orders/1');
      await send(httpUrl, '/healthz');
      // A connection of its own, closed after the answer: nothing stays open after the suite.
      const scraped = await new Promise<string>((resolve, reject) =>
        get(metricsUrl!, { agent: false, headers: { connection: 'close' } }, (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk));
          response.on('end', () => resolve(body));
        }).on('error', reject),
      );
      const sample = (name: string, ...labels: string[]) =>
        scraped.split('\n').find((line) => line.startsWith(`${name}{`) && labels.every((label) => line.includes(label)));
      expect(sample('dapr_auth_decisions_total', 'dapr_auth_outcome="accepted"', 'dapr_auth_transport="http"')).toMatch(/ [1-9]\d*$/);
      expect(sample('dapr_auth_decisions_total', 'dapr_auth_outcome="rejected"', 'dapr_auth_reason="missing"')).toMatch(/ [1-9]\d*$/);
      expect(sample('dapr_auth_decisions_total', 'dapr_auth_outcome="public"')).toMatch(/ [1-9]\d*$/); // /healthz is @DaprPublic()
      expect(sample('dapr_auth_token_accepted_total', 'dapr_auth_token_generation="current"')).toMatch(/ [1-9]\d*$/);
      expect(sample('dapr_auth_tokens')).toMatch(/ 1$/);
    });

    it('GET /dapr/subscribe and /dapr/config answer daprd (which sends the token)', async () => {
      expect((await send(httpUrl, '/dapr/subscribe', { headers: withToken })).json).toEqual([
        { pubsubname: 'pubsub', topic: 'orders', route: '/events/orders' },
      ]);
      expect((await send(httpUrl, '/dapr/config', { headers: withToken })).status).toBe(200);
      expect((await send(httpUrl, '/dapr/subscribe')).status).toBe(401);
    });

    it('pub/sub delivery (a CloudEvent) is acknowledged with the token, refused without', async () => {
      const event = { specversion: '1.0', id: 'e1', type: 'com.dapr.event.sent', source: 'publisher', data: { item: 'coffee' } };
      const delivery = (headers: Record<string, string>) =>
        send(httpUrl, '/events/orders', {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify(event),
        });
      expect((await delivery(withToken)).json).toEqual({ status: 'SUCCESS' });
      expect((await delivery({})).status).toBe(401);
    });

    it('input binding: the OPTIONS probe and the POST, both with the token', async () => {
      expect((await send(httpUrl, '/cron', { method: 'OPTIONS', headers: withToken })).status).toBe(200);
      expect((await send(httpUrl, '/cron', { method: 'POST', headers: withToken })).status).toBe(200);
      expect((await send(httpUrl, '/cron', { method: 'OPTIONS' })).status).toBe(401);
    });

    it('the health probe passes without a token', async () => {
      expect((await send(httpUrl, '/healthz')).json).toEqual({ status: 'ok' });
    });
  });

  describe('gRPC AppCallback (proto-loader client)', () => {
    let client: any;
    let health: any;
    beforeAll(() => {
      client = grpcClient('AppCallback', grpcAddress);
      health = grpcClient('AppCallbackHealthCheck', grpcAddress);
    });
    afterAll(() => {
      client.close();
      health.close();
    });

    it('OnInvoke creates an order with the token, 16 without', async () => {
      const request = { method: 'orders', data: { typeUrl: '', value: Buffer.from(JSON.stringify({ item: 'milk' })) } };
      const accepted = await callUnary(client, 'OnInvoke', request, tokenMetadata(TOKEN));
      expect(accepted.code).toBe(0);
      expect(JSON.parse(Buffer.from((accepted.response as any).data.value).toString())).toMatchObject({ item: 'milk', source: 'grpc' });
      expect((await callUnary(client, 'OnInvoke', request, tokenMetadata())).code).toBe(grpc.status.UNAUTHENTICATED);
    });

    it('OnTopicEvent needs the token; ListTopicSubscriptions, ListInputBindings and HealthCheck do not', async () => {
      expect((await callUnary(client, 'OnTopicEvent', { id: '1', topic: 'orders' }, tokenMetadata(TOKEN))).response).toMatchObject({ status: 'SUCCESS' });
      expect((await callUnary(client, 'OnTopicEvent', { id: '1', topic: 'orders' }, tokenMetadata(WRONG_TOKEN))).code).toBe(16);
      expect((await callUnary(client, 'ListTopicSubscriptions', {}, tokenMetadata())).code).toBe(0);
      expect((await callUnary(client, 'ListInputBindings', {}, tokenMetadata())).response).toEqual({ bindings: ['cron'] });
      expect((await callUnary(health, 'HealthCheck', {}, tokenMetadata())).code).toBe(0);
    });
  });

  describe("gRPC AppCallback (Dapr's service descriptor from @dapr/dapr, Connect client)", () => {
    async function invoke(token?: string): Promise<{ code: number; body?: string }> {
      const client = createClient(AppCallback, createGrpcTransport({ baseUrl: `http://${grpcAddress}` }));
      const request = { method: 'orders', data: { typeUrl: '', value: Buffer.from(JSON.stringify({ item: 'juice' })) } };
      try {
        const response = await client.onInvoke(request, { headers: token ? { 'dapr-api-token': token } : {}, timeoutMs: 3000 });
        return { code: 0, body: Buffer.from(response.data.value).toString() };
      } catch (error) {
        return { code: error instanceof ConnectError ? (error as { code: number }).code : -1 };
      }
    }

    it('accepts the token and rejects a wrong or missing one with UNAUTHENTICATED', async () => {
      const accepted = await invoke(TOKEN);
      expect(accepted.code).toBe(0);
      expect(JSON.parse(accepted.body!)).toMatchObject({ item: 'juice' });
      expect((await invoke(WRONG_TOKEN)).code).toBe(16);
      expect((await invoke()).code).toBe(16);
    });
  });
});
