import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { DaprAuthModule, DaprProtected } from 'nestjs-dapr-auth';
import { callUnary, grpcClient, grpcServerOptions, tokenMetadata } from './support/grpc.js';
import { TestAppCallbackController } from './support/grpc-test-app.js';
import { HTTP_TEST_CONTROLLERS } from './support/http-test-app.js';
import { send, testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { capturedOutput } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';
import { Controller, Module, type Type } from '@nestjs/common';

/** The same gRPC handlers with `@DaprProtected()` on the class. */
@Controller()
@DaprProtected()
class ProtectedAppCallbackController extends TestAppCallbackController {}

/** HTTP + a connected gRPC microservice, with `global: true`. */
async function startHybrid(inheritAppConfig: boolean, grpcController: Type = TestAppCallbackController) {
  @Module({
    imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true })],
    controllers: [...HTTP_TEST_CONTROLLERS, grpcController],
  })
  class HybridModule {}
  const app = await NestFactory.create(HybridModule, { logger: testLogger(['fatal', 'error', 'warn', 'log']), abortOnError: false });
  const grpcAddress = `127.0.0.1:${await freePort()}`;
  app.connectMicroservice<MicroserviceOptions>({ transport: Transport.GRPC, options: grpcServerOptions(grpcAddress) }, { inheritAppConfig });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, baseUrl: `http://127.0.0.1:${port}`, client: grpcClient('AppCallback', grpcAddress) };
}

describe('hybrid app (HTTP + connected gRPC microservice) with global: true', () => {
  let app: INestApplication | undefined;
  let client: any;
  afterEach(async () => {
    client?.close();
    await app?.close();
  });

  it('with inheritAppConfig: true the one global guard covers HTTP and gRPC', async () => {
    let baseUrl: string;
    ({ app, baseUrl, client } = await startHybrid(true));
    expect((await send(baseUrl, '/plain')).status).toBe(401);
    expect((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    expect((await callUnary(client, 'OnInvoke', { method: 'x' }, tokenMetadata())).code).toBe(16);
    expect((await callUnary(client, 'OnInvoke', { method: 'x' }, tokenMetadata(TOKEN))).code).toBe(0);
  });

  it('without inheritAppConfig Nest does not apply APP_GUARD to gRPC, and the start-up log names the fix', async () => {
    let baseUrl: string;
    ({ app, baseUrl, client } = await startHybrid(false));
    expect((await send(baseUrl, '/plain')).status).toBe(401);
    // This is the trap the README warns about: the call gets through unchecked.
    expect((await callUnary(client, 'OnInvoke', { method: 'x' }, tokenMetadata())).code).toBe(0);
    expect(capturedOutput()).toContain('inheritAppConfig: true');
  });

  it('@DaprProtected() on the gRPC controller protects it even without inheritAppConfig', async () => {
    ({ app, client } = await startHybrid(false, ProtectedAppCallbackController));
    expect((await callUnary(client, 'OnInvoke', { method: 'x' }, tokenMetadata())).code).toBe(16);
    expect((await callUnary(client, 'OnInvoke', { method: 'x' }, tokenMetadata(TOKEN))).code).toBe(0);
    expect((await callUnary(client, 'ListInputBindings', {}, tokenMetadata())).code).toBe(0);
    expect(capturedOutput()).not.toContain('inheritAppConfig');
  });
});
