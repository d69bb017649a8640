import { jest } from '@jest/globals';
import { Controller, type INestApplication, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { DaprAuthModule, DaprProtected } from 'nestjs-dapr-auth';
import { TokenVerifier } from '../libs/dapr-auth/src/tokens/token-verifier.js';
import { callUnary, grpcClient, grpcServerOptions, tokenMetadata } from './support/grpc.js';
import { handlerCalls, TestAppCallbackController } from './support/grpc-test-app.js';
import { HTTP_TEST_CONTROLLERS } from './support/http-test-app.js';
import { HTTP_PLATFORMS, type PlatformFactory, send, testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { capturedOutput } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';

/** The same gRPC handlers with `@DaprProtected()` on the class. */
@Controller()
@DaprProtected()
class ProtectedAppCallbackController extends TestAppCallbackController {}

interface HybridSetup {
  platform: PlatformFactory;
  inheritAppConfig: boolean;
  deferInitialization?: boolean;
  grpcController?: Type;
}

/** HTTP + a connected gRPC microservice, with `global: true`. */
async function startHybrid({ platform, inheritAppConfig, deferInitialization, grpcController = TestAppCallbackController }: HybridSetup) {
  @Module({
    imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true })],
    controllers: [...HTTP_TEST_CONTROLLERS, grpcController],
  })
  class HybridModule {}
  const app = await NestFactory.create(HybridModule, platform() as never, { logger: testLogger(['fatal', 'error', 'warn', 'log']), abortOnError: false });
  const grpcAddress = `127.0.0.1:${await freePort()}`;
  app.connectMicroservice<MicroserviceOptions>(
    { transport: Transport.GRPC, options: grpcServerOptions(grpcAddress) },
    { inheritAppConfig, deferInitialization },
  );
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, baseUrl: `http://127.0.0.1:${port}`, client: grpcClient('AppCallback', grpcAddress) };
}

describe.each(HTTP_PLATFORMS)('hybrid app (HTTP on %s + connected gRPC microservice) with global: true', (_name, platform) => {
  let app: INestApplication | undefined;
  let client: any;
  afterEach(async () => {
    jest.restoreAllMocks();
    client?.close();
    await app?.close();
    app = undefined;
  });

  it.each([
    ['inheritAppConfig: true', { inheritAppConfig: true }],
    ['no inheritAppConfig', { inheritAppConfig: false }],
    ['no inheritAppConfig, deferInitialization', { inheritAppConfig: false, deferInitialization: true }],
  ])('with %s, every gRPC handler is protected, and each call is checked exactly once', async (_setup, setup) => {
    let baseUrl: string;
    ({ app, baseUrl, client } = await startHybrid({ platform, ...setup }));
    const checks = jest.spyOn(TokenVerifier.prototype, 'verify');
    const handled = handlerCalls.count;
    expect((await callUnary(client, 'OnInvoke', { method: 'x' }, tokenMetadata())).code).toBe(16);
    expect((await callUnary(client, 'OnTopicEvent', {}, tokenMetadata('wrong-token-of-some-length'))).code).toBe(16);
    expect(handlerCalls.count).toBe(handled);
    expect(checks).toHaveBeenCalledTimes(2);
    checks.mockClear();
    expect((await callUnary(client, 'OnInvoke', { method: 'x' }, tokenMetadata(TOKEN))).code).toBe(0);
    expect(checks).toHaveBeenCalledTimes(1);
    // daprd's token-less discovery call still passes.
    expect((await callUnary(client, 'ListInputBindings', {}, tokenMetadata())).code).toBe(0);
    // HTTP as before: one check per request.
    checks.mockClear();
    expect((await send(baseUrl, '/plain')).status).toBe(401);
    expect((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    expect((await send(baseUrl, '/protected-class', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    expect(checks).toHaveBeenCalledTimes(3);
    expect(capturedOutput()).not.toContain('without DaprAuthGuard');
  });

  it('@DaprProtected() on the gRPC controller protects it too, once per call', async () => {
    ({ app, client } = await startHybrid({ platform, inheritAppConfig: true, grpcController: ProtectedAppCallbackController }));
    const checks = jest.spyOn(TokenVerifier.prototype, 'verify');
    expect((await callUnary(client, 'OnInvoke', { method: 'x' }, tokenMetadata())).code).toBe(16);
    expect((await callUnary(client, 'OnInvoke', { method: 'x' }, tokenMetadata(TOKEN))).code).toBe(0);
    expect(checks).toHaveBeenCalledTimes(2);
    expect((await callUnary(client, 'ListInputBindings', {}, tokenMetadata())).code).toBe(0);
  });

  it('after the app closes, the guard it put on the handlers is gone: a later app without global leaves them to its own set-up', async () => {
    ({ app, client } = await startHybrid({ platform, inheritAppConfig: false }));
    client.close();
    await app.close();
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, unprotected: 'ignore' })], controllers: [TestAppCallbackController] })
    class PlainModule {}
    app = await NestFactory.create(PlainModule, platform() as never, { logger: testLogger(), abortOnError: false });
    const grpcAddress = `127.0.0.1:${await freePort()}`;
    app.connectMicroservice<MicroserviceOptions>({ transport: Transport.GRPC, options: grpcServerOptions(grpcAddress) });
    await app.startAllMicroservices();
    await app.init();
    client = grpcClient('AppCallback', grpcAddress);
    expect((await callUnary(client, 'OnInvoke', { method: 'x' }, tokenMetadata())).code).toBe(0);
  });
});
