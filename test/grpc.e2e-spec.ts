import type { INestMicroservice } from '@nestjs/common';
import { callClientStream, callStream, callUnary, grpcClient, tokenMetadata } from './support/grpc.js';
import { handlerCalls, startGrpcApp } from './support/grpc-test-app.js';
import { capturedOutput } from './support/secrets.js';
import { PREVIOUS_TOKEN, TOKEN, WRONG_TOKEN } from './support/tokens.js';

const OK = 0;
const UNAUTHENTICATED = 16;

describe('gRPC (@nestjs/microservices, grpc-js, Dapr protos)', () => {
  let app: INestMicroservice;
  let appCallback: any;
  let health: any;
  let alpha: any;
  let streaming: any;

  beforeAll(async () => {
    let address: string;
    ({ app, address } = await startGrpcApp({ token: [TOKEN, PREVIOUS_TOKEN] }));
    appCallback = grpcClient('AppCallback', address);
    health = grpcClient('AppCallbackHealthCheck', address);
    alpha = grpcClient('AppCallbackAlpha', address);
    streaming = grpcClient('Streaming', address);
  });

  afterAll(async () => {
    for (const client of [appCallback, health, alpha, streaming]) client.close();
    await app.close();
  });

  const invoke = (...tokens: string[]) => callUnary(appCallback, 'OnInvoke', { method: 'orders' }, tokenMetadata(...tokens));

  describe('AppCallback/OnInvoke (unary)', () => {
    it('accepts the configured token', async () => {
      const outcome = await invoke(TOKEN);
      expect(outcome.code).toBe(OK);
      expect(Buffer.from((outcome.response as any).data.value).toString()).toBe('invoked orders');
    });

    it('accepts every token of the list (rotation)', async () => {
      expect((await invoke(PREVIOUS_TOKEN)).code).toBe(OK);
    });

    it.each([
      ['missing', []],
      ['empty', ['']],
      ['wrong', [WRONG_TOKEN]],
      ['two values, both valid', [TOKEN, TOKEN]],
      ['a valid and a wrong value', [TOKEN, WRONG_TOKEN]],
      ['a prefix of the token', [TOKEN.slice(0, -1)]],
      ['the token with a space', [`${TOKEN} `]],
      ['too long', ['x'.repeat(5000)]],
    ])('rejects a %s token with 16 UNAUTHENTICATED and does not run the handler', async (_name, tokens) => {
      const before = handlerCalls.count;
      const outcome = await invoke(...tokens);
      expect(outcome).toEqual({ code: UNAUTHENTICATED, details: 'Unauthorized' });
      expect(handlerCalls.count).toBe(before);
    });

    it('logs the reason and the method, never the token', async () => {
      await invoke(WRONG_TOKEN);
      await invoke();
      const output = capturedOutput();
      expect(output).toContain('Rejected gRPC /dapr.proto.runtime.v1.AppCallback/OnInvoke: token mismatch');
      expect(output).toContain('Rejected gRPC /dapr.proto.runtime.v1.AppCallback/OnInvoke: missing token');
    });
  });

  describe('the calls daprd makes without a token are exempt', () => {
    it('AppCallbackHealthCheck/HealthCheck', async () => {
      expect((await callUnary(health, 'HealthCheck', {}, tokenMetadata())).code).toBe(OK);
    });
    it('AppCallback/ListTopicSubscriptions', async () => {
      const outcome = await callUnary(appCallback, 'ListTopicSubscriptions', {}, tokenMetadata());
      expect(outcome.code).toBe(OK);
      expect((outcome.response as any).subscriptions[0].topic).toBe('orders');
    });
    it('AppCallback/ListInputBindings', async () => {
      expect((await callUnary(appCallback, 'ListInputBindings', {}, tokenMetadata())).code).toBe(OK);
    });
    it('but not OnTopicEvent, which daprd sends with the token', async () => {
      expect((await callUnary(appCallback, 'OnTopicEvent', { id: '1', topic: 'orders' }, tokenMetadata())).code).toBe(UNAUTHENTICATED);
      expect((await callUnary(appCallback, 'OnTopicEvent', { id: '1', topic: 'orders' }, tokenMetadata(TOKEN))).code).toBe(OK);
    });
    it('@DaprPublic() exempts a gRPC method under the global guard', async () => {
      expect((await callUnary(alpha, 'OnJobEventAlpha1', {}, tokenMetadata())).code).toBe(OK);
    });
  });

  describe.each([
    ['Unary (@GrpcMethod)', (m: any) => callUnary(streaming, 'Unary', { text: 'a' }, m), { text: 'unary a' }],
    [
      'ServerStream (@GrpcMethod, server streaming)',
      (m: any) => callStream(streaming, 'ServerStream', m, { request: { text: 'a' } }),
      [{ text: 'a 1' }, { text: 'a 2' }],
    ],
    [
      'ClientStreamRx (@GrpcStreamMethod, client streaming)',
      (m: any) => callClientStream(streaming, 'ClientStreamRx', m, [{ text: 'a' }, { text: 'b' }]),
      { text: 'a+b' },
    ],
    ['DuplexRx (@GrpcStreamMethod, duplex)', (m: any) => callStream(streaming, 'DuplexRx', m, { send: [{ text: 'a' }] }), [{ text: 'echo a' }]],
    [
      'ClientStreamCall (@GrpcStreamCall, client streaming)',
      (m: any) => callClientStream(streaming, 'ClientStreamCall', m, [{ text: 'a' }, { text: 'b' }]),
      { text: 'a+b' },
    ],
    ['DuplexCall (@GrpcStreamCall, duplex)', (m: any) => callStream(streaming, 'DuplexCall', m, { send: [{ text: 'a' }] }), [{ text: 'echo a' }]],
  ])('%s', (_name, call, expected) => {
    it('accepts the token', async () => {
      const outcome = await call(tokenMetadata(TOKEN));
      expect(outcome.code).toBe(OK);
      expect(outcome.messages ?? outcome.response).toEqual(expected);
    });

    it.each([
      ['missing', []],
      ['wrong', [WRONG_TOKEN]],
      ['duplicated', [TOKEN, TOKEN]],
    ])('rejects a %s token promptly with 16 UNAUTHENTICATED (a 3 s deadline would give 4)', async (_reason, tokens) => {
      const before = handlerCalls.count;
      const outcome = await call(tokenMetadata(...tokens));
      expect(outcome.code).toBe(UNAUTHENTICATED);
      expect(outcome.details).toBe('Unauthorized');
      expect(outcome.messages ?? []).toEqual([]);
      expect(handlerCalls.count).toBe(before);
    });
  });

  describe('options', () => {
    it('exemptTokenlessDaprCalls: false protects HealthCheck and the discovery calls too', async () => {
      const strict = await startGrpcApp({ token: TOKEN, exemptTokenlessDaprCalls: false });
      const strictHealth = grpcClient('AppCallbackHealthCheck', strict.address);
      const strictCallback = grpcClient('AppCallback', strict.address);
      try {
        expect((await callUnary(strictHealth, 'HealthCheck', {}, tokenMetadata())).code).toBe(UNAUTHENTICATED);
        expect((await callUnary(strictCallback, 'ListTopicSubscriptions', {}, tokenMetadata())).code).toBe(UNAUTHENTICATED);
        expect((await callUnary(strictHealth, 'HealthCheck', {}, tokenMetadata(TOKEN))).code).toBe(OK);
      } finally {
        strictHealth.close();
        strictCallback.close();
        await strict.app.close();
      }
    });

    it('without global, warns at start-up about gRPC handlers nothing protects', async () => {
      const open = await startGrpcApp({ token: TOKEN, global: false });
      try {
        const output = capturedOutput();
        expect(output).toContain(
          'handler(s) without DaprAuthGuard, open to anyone who reaches the port:\n  - AppCallback/OnInvoke (TestAppCallbackController.onInvoke)',
        );
        expect(output).toContain('add @DaprProtected()');
        // The calls daprd sends without a token are exempt anyway: not worth a warning.
        expect(output).not.toMatch(/ - [^\n]*(HealthCheck|ListTopicSubscriptions|ListInputBindings)/);
        // The one handler daprd calls that is @DaprPublic() is called out.
        expect(output).toContain('@DaprPublic() handlers that daprd calls WITH the token');
        expect(output).toContain('AppCallbackAlpha/OnJobEventAlpha1 (TestAppCallbackController.onJobEvent)');
      } finally {
        await open.app.close();
      }
    });
  });
});
