import { Controller, type INestMicroservice, Module } from '@nestjs/common';
import { GrpcStreamCall, Payload } from '@nestjs/microservices';
import { DaprAuthModule, DaprClaims } from 'nestjs-dapr-auth';
import { callClientStream, callStream, grpcClient, tokenMetadata } from './support/grpc.js';
import { handlerCalls, startGrpcApp, startGrpcModule } from './support/grpc-test-app.js';
import { signingKey } from './support/jwt.js';
import { TOKEN } from './support/tokens.js';

/** Nest's gRPC server, for its processing hooks (`getTransportServer()` on Nest 12). */
function transportServer(app: INestMicroservice): { setOnProcessingStartHook(hook: unknown): void; setOnProcessingEndHook(hook: unknown): void } {
  const microservice = app as unknown as { getTransportServer?: () => never; serverInstance: never };
  return microservice.getTransportServer?.() ?? microservice.serverInstance;
}

describe('@GrpcStreamCall rejections', () => {
  it("leave Nest's processing hooks balanced, run no handler, and raise no unhandled rejection", async () => {
    const { app, address } = await startGrpcApp({ token: TOKEN });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const hooks = { start: 0, end: 0 };
    const server = transportServer(app);
    server.setOnProcessingStartHook((_transport: unknown, _context: unknown, done: () => Promise<unknown>) => {
      hooks.start++;
      return done();
    });
    server.setOnProcessingEndHook(() => hooks.end++);
    const client = grpcClient('Streaming', address);
    try {
      const handled = handlerCalls.count;
      for (let i = 0; i < 5; i++) {
        expect((await callClientStream(client, 'ClientStreamCall', tokenMetadata(), [{ text: 'a' }])).code).toBe(16);
        expect((await callStream(client, 'DuplexCall', tokenMetadata('wrong-token-value-of-length'), { send: [{ text: 'a' }] })).code).toBe(16);
      }
      expect(handlerCalls.count).toBe(handled);
      expect((await callStream(client, 'DuplexCall', tokenMetadata(TOKEN), { send: [{ text: 'a' }] })).code).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(hooks.start).toBe(11);
      expect(hooks.end).toBe(hooks.start);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      client.close();
      await app.close();
    }
  });
});

@Controller()
class ClaimsStreamController {
  @GrpcStreamCall('Streaming', 'DuplexCall')
  duplexCall(@Payload() call: any, @DaprClaims('sub') sub: string | undefined) {
    call.on('data', () => call.write({ text: `sub=${sub}` }));
    call.on('end', () => call.end());
  }
}

describe('@DaprClaims() in a @GrpcStreamCall handler', () => {
  it('gives the verified claims of the call', async () => {
    const key = await signingKey('HS256');
    @Module({ imports: [DaprAuthModule.forRoot({ global: true, jwt: { ...key.keySource, algorithms: ['HS256'] } })], controllers: [ClaimsStreamController] })
    class ClaimsModule {}
    const { app, address } = await startGrpcModule(ClaimsModule);
    const client = grpcClient('Streaming', address);
    try {
      const token = await key.sign({ sub: 'checkout' });
      const outcome = await callStream(client, 'DuplexCall', tokenMetadata(token), { send: [{ text: 'a' }] });
      expect(outcome).toMatchObject({ code: 0, messages: [{ text: 'sub=checkout' }] });
      // Again, from the verified-token cache.
      expect(await callStream(client, 'DuplexCall', tokenMetadata(token), { send: [{ text: 'b' }] })).toMatchObject({
        code: 0,
        messages: [{ text: 'sub=checkout' }],
      });
      expect((await callStream(client, 'DuplexCall', tokenMetadata(), { send: [{ text: 'c' }] })).code).toBe(16);
    } finally {
      client.close();
      await app.close();
    }
  });
});
