import { Controller, Get, type INestApplication, Module, Post } from '@nestjs/common';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { DaprAuthGuard, DaprAuthModule, DaprCaller, type DaprCallerIdentity, DaprCallers } from 'nestjs-dapr-auth';
import { DAPR_TEST_TOKEN, daprHeaders, setDaprMetadata, withDaprTestToken } from 'nestjs-dapr-auth/testing';
import { callUnary, grpc, grpcClient, grpcServerOptions } from './support/grpc.js';
import { TestAppCallbackController } from './support/grpc-test-app.js';
import { send, testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { TOKEN } from './support/tokens.js';

/**
 * Testing a user's own app with the guard on (issue: "Test your own app with the guard on"): an
 * app that protects everything with `global: true`, HTTP and a connected gRPC microservice (no
 * inheritAppConfig), tested the two documented ways: unit-style with the guard overridden, and
 * e2e with the real guard and `nestjs-dapr-auth/testing` playing daprd.
 */
@Controller('orders')
class OrdersController {
  @Get()
  list() {
    return ['tea'];
  }

  @Post(':id/cancel')
  @DaprCallers('checkout')
  cancel(@DaprCaller() caller: DaprCallerIdentity | undefined) {
    return { cancelledBy: caller?.appId ?? null };
  }
}

// The app as its authors wrote it: its token from the environment (not set in this test).
@Module({
  imports: [DaprAuthModule.forRoot({ global: true, tokenEnvVar: 'ORDERS_TEST_APP_TOKEN' })],
  controllers: [OrdersController, TestAppCallbackController],
})
class AppModule {}

async function start(builder: TestingModuleBuilder): Promise<{ app: INestApplication; baseUrl: string; grpcAddress: string; close: () => Promise<void> }> {
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ logger: testLogger() });
  const grpcAddress = `127.0.0.1:${await freePort()}`;
  app.connectMicroservice<MicroserviceOptions>({ transport: Transport.GRPC, options: grpcServerOptions(grpcAddress) });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  return { app, baseUrl: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`, grpcAddress, close: () => app.close() };
}

async function onInvoke(address: string, metadata: grpc.Metadata): Promise<number> {
  const client = grpcClient('AppCallback', address);
  try {
    return (await callUnary(client, 'OnInvoke', { method: 'x' }, metadata)).code;
  } finally {
    client.close();
  }
}

describe('testing an app that uses global: true', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  describe.each([
    ['overrideGuard(DaprAuthGuard)', (builder: TestingModuleBuilder) => builder.overrideGuard(DaprAuthGuard)],
    ['overrideProvider(DaprAuthGuard)', (builder: TestingModuleBuilder) => builder.overrideProvider(DaprAuthGuard)],
  ])('%s', (_name, override) => {
    it('a stand-in that lets everything through reaches the global guard, HTTP and gRPC handlers (no inheritAppConfig)', async () => {
      process.env.ORDERS_TEST_APP_TOKEN = TOKEN; // the app starts as configured; the override decides
      const { baseUrl, grpcAddress, close } = await start(override(Test.createTestingModule({ imports: [AppModule] })).useValue({ canActivate: () => true }));
      try {
        expect((await send(baseUrl, '/orders')).status).toBe(200);
        expect((await send(baseUrl, '/orders/1/cancel', { method: 'POST' })).status).toBe(201);
        expect(await onInvoke(grpcAddress, new grpc.Metadata())).toBe(0);
      } finally {
        await close();
      }
    });

    it('a stand-in that refuses everything is what decides too (Nest answers 403 for false)', async () => {
      process.env.ORDERS_TEST_APP_TOKEN = TOKEN;
      const { baseUrl, close } = await start(override(Test.createTestingModule({ imports: [AppModule] })).useValue({ canActivate: () => false }));
      try {
        expect((await send(baseUrl, '/orders', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(403);
      } finally {
        await close();
      }
    });
  });

  it('without an override the real guard decides (the control)', async () => {
    process.env.ORDERS_TEST_APP_TOKEN = TOKEN;
    process.env.DAPR_API_TOKEN = 'control-dapr-api-token-0123456789'; // the real guard's caller rule needs it
    const { baseUrl, close } = await start(Test.createTestingModule({ imports: [AppModule] }));
    try {
      expect((await send(baseUrl, '/orders')).status).toBe(401);
      expect((await send(baseUrl, '/orders', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    } finally {
      await close();
    }
  });
});

describe('nestjs-dapr-auth/testing: the real guard, with daprd played by the test', () => {
  let baseUrl: string;
  let grpcAddress: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    delete process.env.ORDERS_TEST_APP_TOKEN; // the app's own source is not set: withDaprTestToken replaces it
    delete process.env.DAPR_API_TOKEN; // and caller rules start without it in tests
    ({ baseUrl, grpcAddress, close } = await start(withDaprTestToken(Test.createTestingModule({ imports: [AppModule] }))));
  });
  afterAll(() => close());

  it('HTTP: the test token passes, none or another gets 401', async () => {
    expect((await send(baseUrl, '/orders', { headers: daprHeaders() })).status).toBe(200);
    expect((await send(baseUrl, '/orders', { headers: daprHeaders({ token: false }) })).status).toBe(401);
    expect((await send(baseUrl, '/orders', { headers: daprHeaders({ token: TOKEN }) })).status).toBe(401);
  });

  it('HTTP: @DaprCallers rules, as daprd stamps the caller: the listed app 201, another 403, none 403', async () => {
    const cancel = (callerAppId?: string) => send(baseUrl, '/orders/1/cancel', { method: 'POST', headers: daprHeaders({ callerAppId }) });
    const allowed = await cancel('checkout');
    expect(allowed.status).toBe(201);
    expect(allowed.json).toEqual({ cancelledBy: 'checkout' });
    expect((await cancel('billing')).status).toBe(403);
    expect((await cancel()).status).toBe(403);
  });

  it('gRPC: setDaprMetadata on a grpc-js Metadata: 0 with the test token, 16 without', async () => {
    expect(await onInvoke(grpcAddress, setDaprMetadata(new grpc.Metadata()))).toBe(0);
    expect(await onInvoke(grpcAddress, setDaprMetadata(new grpc.Metadata(), { token: false }))).toBe(16);
  });

  it('the helpers write exactly what daprd sends', () => {
    expect(daprHeaders({ callerAppId: 'checkout', callerNamespace: 'shop', calleeAppId: 'orders' })).toEqual({
      'dapr-api-token': DAPR_TEST_TOKEN,
      'dapr-caller-app-id': 'checkout',
      'dapr-caller-namespace': 'shop',
      'dapr-callee-app-id': 'orders',
    });
    expect(daprHeaders({ token: false })).toEqual({});
    expect(setDaprMetadata(new grpc.Metadata(), { token: 'x' }).getMap()).toEqual({ 'dapr-api-token': 'x' });
  });
});
