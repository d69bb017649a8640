import { Controller, type INestApplication, Module, Post } from '@nestjs/common';
import { GrpcMethod, GrpcStreamCall, Payload } from '@nestjs/microservices';
import { DaprAuthModule, DaprCaller, type DaprCallerIdentity, DaprCallers, DaprPublic } from 'nestjs-dapr-auth';
import { callStream, callUnary, grpc } from './support/grpc.js';
import { startGrpcModule, withGrpcClients } from './support/grpc-test-app.js';
import { HTTP_PLATFORMS, send, startHttpApp } from './support/http.js';
import { capturedOutput } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';

/**
 * @DaprCallers() and @DaprCaller() without daprd: the header / metadata rules (missing, several
 * values, letter case, empty, over-long, namespaces, proxied gRPC calls) over Express, Fastify
 * and gRPC. The same rules against real daprds: test/dapr/callers.dapr-spec.ts.
 */
@Controller('callers')
class CallersController {
  @Post('any')
  any(@DaprCaller() caller: DaprCallerIdentity | undefined) {
    return { caller: caller ?? null };
  }

  @Post('checkout')
  @DaprCallers('checkout')
  checkout(@DaprCaller() caller: DaprCallerIdentity | undefined) {
    return { caller };
  }

  @Post('shop-checkout')
  @DaprCallers('shop/checkout')
  shopCheckout() {
    return { ok: true };
  }

  @Post('public')
  @DaprPublic()
  open(@DaprCaller() caller: DaprCallerIdentity | undefined) {
    return { caller: caller ?? null };
  }
}

@Controller()
class CallersGrpcController {
  @GrpcMethod('AppCallback', 'OnInvoke')
  @DaprCallers('checkout', 'shop/billing')
  onInvoke(@Payload() request: { method: string }, @DaprCaller() caller: DaprCallerIdentity | undefined) {
    return { contentType: 'application/json', data: { typeUrl: '', value: Buffer.from(JSON.stringify({ method: request.method, caller })) } };
  }

  @GrpcStreamCall('Streaming', 'DuplexCall')
  @DaprCallers('checkout')
  duplexCall(@Payload() call: any, @DaprCaller() caller: DaprCallerIdentity | undefined) {
    call.on('data', () => call.write({ text: `caller=${caller?.appId}` }));
    call.on('end', () => call.end());
  }

  // An app's own service, reached through daprd's gRPC proxy: a namespace there is never trusted.
  @GrpcMethod('Streaming', 'Unary')
  @DaprCallers('shop/billing')
  unary() {
    return { text: 'ok' };
  }
}

// Every rejection logged (rejectionLogLimit: false): the log assertions come after many rejections.
@Module({
  imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true, rejectionLogLimit: false, allowForgeableCallers: true })],
  controllers: [CallersController, CallersGrpcController],
})
class CallersModule {}

const withToken = (headers: Record<string, string | string[]>) => ({ 'dapr-api-token': TOKEN, ...headers });

describe.each(HTTP_PLATFORMS)('@DaprCallers over HTTP on %s', (_name, platform) => {
  let app: INestApplication;
  let baseUrl: string;
  beforeAll(async () => {
    ({ app, baseUrl } = await startHttpApp(CallersModule, platform));
  });
  afterAll(() => app.close());

  const post = (path: string, headers: Record<string, string | string[]>) => send(baseUrl, path, { method: 'POST', headers });

  it.each<[string, Record<string, string | string[]>, number]>([
    ['the listed app', withToken({ 'dapr-caller-app-id': 'checkout' }), 201],
    ['the listed app, header name in any case', withToken({ 'Dapr-Caller-App-Id': 'checkout' }), 201],
    ['no token (the token comes first)', { 'dapr-caller-app-id': 'checkout' }, 401],
    ['no caller identity (pub/sub, bindings, self-invocation)', withToken({}), 403],
    ['another app', withToken({ 'dapr-caller-app-id': 'billing' }), 403],
    ['the app id in another letter case', withToken({ 'dapr-caller-app-id': 'Checkout' }), 403],
    ['two values (a caller adding its own)', withToken({ 'dapr-caller-app-id': ['checkout', 'checkout'] }), 403],
    ['two values joined by a proxy', withToken({ 'dapr-caller-app-id': 'evil, checkout' }), 403],
    ['an empty value', withToken({ 'dapr-caller-app-id': '' }), 403],
    ['an over-long value', withToken({ 'dapr-caller-app-id': `c${'x'.repeat(300)}` }), 403],
    ['a value with a space', withToken({ 'dapr-caller-app-id': 'check out' }), 403],
  ])('%s', async (_case, headers, status) => {
    const response = await post('/callers/checkout', headers);
    expect(response.status).toBe(status);
    if (status === 403) expect(response.json).toEqual({ message: 'Forbidden', statusCode: 403 });
    if (status === 201) expect(response.json).toEqual({ caller: { appId: 'checkout' } });
  });

  it("'shop/checkout' needs that namespace, exactly once", async () => {
    expect((await post('/callers/shop-checkout', withToken({ 'dapr-caller-app-id': 'checkout', 'dapr-caller-namespace': 'shop' }))).status).toBe(201);
    expect((await post('/callers/shop-checkout', withToken({ 'dapr-caller-app-id': 'checkout', 'dapr-caller-namespace': 'other' }))).status).toBe(403);
    expect((await post('/callers/shop-checkout', withToken({ 'dapr-caller-app-id': 'checkout' }))).status).toBe(403);
    expect((await post('/callers/shop-checkout', withToken({ 'dapr-caller-app-id': 'checkout', 'dapr-caller-namespace': ['shop', 'shop'] }))).status).toBe(403);
  });

  it('logs the refused caller app id and why, never the token', async () => {
    await post('/callers/checkout', withToken({ 'dapr-caller-app-id': 'billing', 'dapr-caller-namespace': 'shop' }));
    await post('/callers/checkout', withToken({}));
    const output = capturedOutput();
    expect(output).toContain('Rejected HTTP POST /callers/checkout: caller app "billing" (namespace "shop") is not in @DaprCallers');
    expect(output).toContain('Rejected HTTP POST /callers/checkout: no caller identity (dapr-caller-app-id)');
  });

  it('@DaprCaller() gives the caller after the token, on any protected handler, and nothing on a public one', async () => {
    expect((await post('/callers/any', withToken({ 'dapr-caller-app-id': 'checkout', 'dapr-caller-namespace': 'shop' }))).json).toEqual({
      caller: { appId: 'checkout', namespace: 'shop' },
    });
    expect((await post('/callers/any', withToken({}))).json).toEqual({ caller: null });
    expect((await post('/callers/any', withToken({ 'dapr-caller-app-id': ['a', 'b'] }))).json).toEqual({ caller: null });
    expect((await post('/callers/public', { 'dapr-caller-app-id': 'checkout' })).json).toEqual({ caller: null });
  });
});

describe('the log says which rule a refused caller identity broke', () => {
  let app: INestApplication;
  let baseUrl: string;
  beforeAll(async () => {
    ({ app, baseUrl } = await startHttpApp(CallersModule, HTTP_PLATFORMS[0][1]));
  });
  afterAll(() => app.close());

  it.each([
    [
      'two values',
      { 'dapr-caller-app-id': ['checkout', 'checkout'] },
      /caller identity refused: several dapr-caller-app-id values \(what a caller adding its own looks like\)/,
    ],
    ['not an app id', { 'dapr-caller-app-id': 'check out!' }, /caller identity refused: dapr-caller-app-id is not an app id/],
    [
      'two namespaces',
      { 'dapr-caller-app-id': 'checkout', 'dapr-caller-namespace': ['shop', 'dev'] },
      /caller identity refused: several dapr-caller-namespace values/,
    ],
  ])('%s', async (_name, headers, line) => {
    const before = capturedOutput().length;
    expect((await send(baseUrl, '/callers/checkout', { method: 'POST', headers: { 'dapr-api-token': TOKEN, ...headers } })).status).toBe(403);
    expect(capturedOutput().slice(before)).toMatch(line);
  });
});

describe('@DaprCallers over gRPC', () => {
  let callback: any;
  let streaming: any;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ callback, streaming, close } = await withGrpcClients(startGrpcModule(CallersModule)));
  });
  afterAll(() => close());

  const metadata = (entries: Array<[string, string]>, token = TOKEN) => {
    const result = new grpc.Metadata();
    if (token) result.add('dapr-api-token', token);
    for (const [key, value] of entries) result.add(key, value);
    return result;
  };

  it.each<[string, Array<[string, string]>, number]>([
    ['the listed app', [['dapr-caller-app-id', 'checkout']], 0],
    [
      // F2: a caller that proxies to AppCallback/OnInvoke sends its own namespace, alone: never trusted over gRPC.
      "a namespaced entry's app and namespace (the namespace is never trusted over gRPC)",
      [
        ['dapr-caller-app-id', 'billing'],
        ['dapr-caller-namespace', 'shop'],
      ],
      7,
    ],
    [
      'that app from another namespace',
      [
        ['dapr-caller-app-id', 'billing'],
        ['dapr-caller-namespace', 'other'],
      ],
      7,
    ],
    ['no caller identity', [], 7],
    ['another app', [['dapr-caller-app-id', 'payments']], 7],
    [
      'two values',
      [
        ['dapr-caller-app-id', 'checkout'],
        ['dapr-caller-app-id', 'checkout'],
      ],
      7,
    ],
    ['one value holding two', [['dapr-caller-app-id', 'spoofed, checkout']], 7],
  ])('OnInvoke, %s', async (_case, entries, code) => {
    const outcome = await callUnary(callback, 'OnInvoke', { method: 'm' }, metadata(entries));
    expect(outcome.code).toBe(code);
    if (code === 7) expect(outcome.details).toBe('Forbidden');
  });

  it('OnInvoke without the token is 16 whatever the caller', async () => {
    expect((await callUnary(callback, 'OnInvoke', { method: 'm' }, metadata([['dapr-caller-app-id', 'checkout']], ''))).code).toBe(16);
  });

  it('@DaprCaller() in a gRPC handler', async () => {
    const outcome = await callUnary(callback, 'OnInvoke', { method: 'm' }, metadata([['dapr-caller-app-id', 'checkout']]));
    const body = JSON.parse(Buffer.from((outcome.response as { data: { value: Buffer } }).data.value).toString('utf8'));
    expect(body).toEqual({ method: 'm', caller: { appId: 'checkout' } });
  });

  it('@GrpcStreamCall: the listed app gets its stream, another app 7 PERMISSION_DENIED sent on the call', async () => {
    expect(await callStream(streaming, 'DuplexCall', metadata([['dapr-caller-app-id', 'checkout']]), { send: [{ text: 'a' }] })).toMatchObject({
      code: 0,
      messages: [{ text: 'caller=checkout' }],
    });
    expect(await callStream(streaming, 'DuplexCall', metadata([['dapr-caller-app-id', 'payments']]), { send: [{ text: 'a' }] })).toMatchObject({
      code: 7,
      details: 'Forbidden',
    });
  });

  it("a proxied call (the app's own service) never satisfies a namespaced entry: its namespace is the caller's to write", async () => {
    const outcome = await callUnary(
      streaming,
      'Unary',
      { text: 'x' },
      metadata([
        ['dapr-caller-app-id', 'billing'],
        ['dapr-caller-namespace', 'shop'],
      ]),
    );
    expect(outcome.code).toBe(7);
  });
});
