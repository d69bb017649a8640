import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { Controller, Get, type INestApplication, Module, Post, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod } from '@nestjs/microservices';
import { DaprAuthHealthIndicator, DaprAuthModule, type DaprAuthModuleOptions, DaprAuthStatus, DaprCallers, type SidecarApiState } from 'nestjs-dapr-auth';
import { SIDECAR_API_CHECK_TIMING } from '../libs/dapr-auth/src/callers/sidecar-api-check.js';
import { eventually } from './support/eventually.js';
import { callUnary, grpc, grpcClient } from './support/grpc.js';
import { startGrpcModule } from './support/grpc-test-app.js';
import { HTTP_PLATFORMS, type PlatformFactory, send, testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { capturedOutput, registerSecret } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';

/**
 * The sidecar checked, not assumed, and enforced: with DAPR_HTTP_PORT set, the app asks its daprd's
 * API, after start and in the background, whether it refuses a client without DAPR_API_TOKEN and
 * accepts the app's own; until that is proven (and again whenever a re-check finds it open) caller
 * rules refuse every call (HTTP 403 / gRPC 7). Real HTTP servers on loopback stand in for daprd's
 * API here (answering as daprd does: 401 "invalid api token" without DAPR_API_TOKEN, 200 with it);
 * test/dapr/self-invocation.dapr-spec.ts and test/dapr/callers.dapr-spec.ts ask real daprds.
 */
const DAPR_API_TOKEN = 'Qx7rV2mK9pL4tZ8wN3bH6cJ1fD5gS0yAe2Ri';
registerSecret(DAPR_API_TOKEN);

type Answer = (headers: IncomingHttpHeaders, res: ServerResponse) => void;
const answers = {
  /** daprd run with DAPR_API_TOKEN. */
  daprd: ((headers, res) =>
    headers['dapr-api-token'] === DAPR_API_TOKEN
      ? res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      : res.writeHead(401, { 'content-type': 'text/plain' }).end('invalid api token')) as Answer,
  /** daprd run without it. */
  open: ((_headers, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')) as Answer,
  /** Anything answering 401 whatever is sent (or a daprd with another DAPR_API_TOKEN than the app's). */
  always401: ((_headers, res) => res.writeHead(401).end('unauthorized')) as Answer,
  unavailable: ((_headers, res) => res.writeHead(503).end()) as Answer,
  redirectTo:
    (url: string): Answer =>
    (_headers, res) =>
      res.writeHead(302, { location: url }).end(),
};

class FakeDaprApi {
  requests: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  private server: Server | undefined;
  constructor(public answer: Answer) {}
  async listen(port: number): Promise<void> {
    this.server = createServer((request, res) => {
      this.requests.push({ url: request.url ?? '', headers: request.headers });
      this.answer(request.headers, res);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
  }
  close(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

@Controller('x')
class XController {
  @Get()
  x() {
    return 'x';
  }
}

@Controller('orders')
class OrdersController {
  @Post('cancel')
  @DaprCallers('checkout')
  cancel() {
    return { ok: true };
  }

  @Get()
  list() {
    return { orders: [] };
  }
}

@Controller()
class CallbackController {
  @GrpcMethod('AppCallback', 'OnInvoke')
  @DaprCallers('checkout')
  onInvoke() {
    return { contentType: 'application/json', data: { typeUrl: '', value: Buffer.from('{"ok":true}') } };
  }
}

function moduleWith(controllers: Array<new () => unknown>, options: DaprAuthModuleOptions = {}): DynamicModule {
  @Module({})
  class CheckedModule {}
  return { module: CheckedModule, imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true, ...options })], controllers };
}

async function startApp(options: DaprAuthModuleOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create(moduleWith([XController], options), { logger: testLogger(['fatal', 'error', 'warn', 'log']), abortOnError: false });
  await app.init();
  return app;
}

async function startHttp(module: DynamicModule, platform: PlatformFactory): Promise<{ app: INestApplication; baseUrl: string }> {
  const app = await NestFactory.create(module as never, platform() as never, { logger: testLogger(), abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return { app: app as INestApplication, baseUrl: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** DAPR_HTTP_PORT / DAPR_API_TOKEN / DAPR_HOST as each test sets them, and the check's timings shortened (restored after each). */
function isolateEnvironment(): void {
  const saved = { DAPR_HTTP_PORT: process.env.DAPR_HTTP_PORT, DAPR_API_TOKEN: process.env.DAPR_API_TOKEN, DAPR_HOST: process.env.DAPR_HOST };
  const timing = { ...SIDECAR_API_CHECK_TIMING };
  beforeEach(() => {
    delete process.env.DAPR_HOST;
    delete process.env.DAPR_API_TOKEN;
    Object.assign(SIDECAR_API_CHECK_TIMING, { firstRetryMs: 50, maxRetryMs: 200, requestTimeoutMs: 1000, unreachableAfterMs: 1500, recheckMs: 60_000 });
  });
  afterEach(() => {
    Object.assign(SIDECAR_API_CHECK_TIMING, timing);
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}

/** A fake daprd API on a free port, which DAPR_HTTP_PORT then names (listening unless `listening: false`). */
async function fakeDaprd(answer: Answer, listening = true): Promise<{ api: FakeDaprApi; port: number }> {
  const port = await freePort();
  process.env.DAPR_HTTP_PORT = String(port);
  const api = new FakeDaprApi(answer);
  if (listening) await api.listen(port);
  return { api, port };
}

const tokenHeaders = (headers: IncomingHttpHeaders) => Object.keys(headers).filter((name) => /token/i.test(name));

describe('the sidecar API check (DAPR_HTTP_PORT)', () => {
  isolateEnvironment();
  let app: INestApplication | undefined;
  let api: FakeDaprApi | undefined;
  afterEach(async () => {
    await app?.close();
    await api?.close();
    app = api = undefined;
  });

  it("a daprd that requires DAPR_API_TOKEN: 401 without it, 200 with the app's own; requires-token, healthy; never APP_API_TOKEN", async () => {
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    let port: number;
    ({ api, port } = await fakeDaprd(answers.daprd));
    app = await startApp();
    const status = app.get(DaprAuthStatus);
    await eventually(() => status.sidecarApi.state === 'requires-token', 'the check to settle');
    expect(status.sidecarApi).toEqual({ state: 'requires-token', address: `http://127.0.0.1:${port}`, statusCode: 401 });
    expect(status.callerRulesRefused).toBe(false);
    expect(app.get(DaprAuthHealthIndicator).isHealthy()['dapr-auth']).toMatchObject({ status: 'up', acceptedTokens: 1, sidecarApi: 'requires-token' });
    // The check's two questions; then the wiring check may read the metadata once more (with the same token).
    expect(api.requests.map((request) => request.url).slice(0, 2)).toEqual(['/v1.0/metadata', '/v1.0/metadata']);
    expect(tokenHeaders(api.requests[0].headers)).toEqual([]);
    expect(tokenHeaders(api.requests[1].headers)).toEqual(['dapr-api-token']);
    expect(api.requests[1].headers['dapr-api-token']).toBe(DAPR_API_TOKEN);
    expect(JSON.stringify(api.requests)).not.toContain(TOKEN);
  });

  it('a daprd whose API is open (200): an error line that names the fix, open in the status, degraded health', async () => {
    ({ api } = await fakeDaprd(answers.open));
    const before = capturedOutput().length;
    app = await startApp();
    const status = app.get(DaprAuthStatus);
    await eventually(() => status.sidecarApi.state === 'open', 'the check to settle');
    // No caller rule in this app: nothing refused for it.
    expect(app.get(DaprAuthHealthIndicator).isHealthy()['dapr-auth']).toMatchObject({ status: 'degraded', acceptedTokens: 1, sidecarApi: 'open' });
    const output = capturedOutput().slice(before);
    expect(output).toMatch(/ERROR[^\n]*daprd's API at http:\/\/127\.0\.0\.1:\d+ answers without DAPR_API_TOKEN[^\n]*dapr\.io\/api-token-secret/);
    expect(api.requests.every((request) => request.headers['dapr-api-token'] === undefined)).toBe(true);
  });

  it("an API found open: the wiring check reads its metadata without the app's DAPR_API_TOKEN (what answered may not be daprd)", async () => {
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    ({ api } = await fakeDaprd(answers.open));
    const { app: started } = await startHttp(DaprAuthModule.forRoot({ token: TOKEN, global: true }), HTTP_PLATFORMS[0][1]);
    app = started;
    const status = app.get(DaprAuthStatus);
    // The fake answers `{}`: read, and found not to be daprd's metadata.
    await eventually(() => status.sidecarWiring.state === 'unreadable', 'the wiring check to read the metadata');
    // The API check's one question and the wiring check's read, none with a token.
    expect(api.requests.length).toBeGreaterThanOrEqual(2);
    expect(api.requests.flatMap((request) => tokenHeaders(request.headers))).toEqual([]);
  });

  it('a daprd not up yet: start-up does not wait; the check retries until daprd answers', async () => {
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    let port: number;
    ({ api, port } = await fakeDaprd(answers.daprd, false));
    const started = Date.now();
    app = await startApp();
    expect(Date.now() - started).toBeLessThan(2000);
    const status = app.get(DaprAuthStatus);
    expect(status.sidecarApi.state).toBe('checking');
    expect(app.get(DaprAuthHealthIndicator).isHealthy()['dapr-auth']).toMatchObject({ status: 'up', sidecarApi: 'checking' });
    await sleep(300); // at least one refused attempt
    await api.listen(port);
    await eventually(() => status.sidecarApi.state === 'requires-token', 'the check to settle after daprd came up', 10000);
  });

  it.each<[string, SidecarApiState, Answer]>([
    ["401 to everything (a DAPR_API_TOKEN that is not daprd's)", 'token-refused', answers.always401],
    ['503 all along, past the bound', 'unreachable', answers.unavailable],
  ])('%s: %s, degraded health', async (_name, state, answer) => {
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    ({ api } = await fakeDaprd(answer));
    app = await startApp();
    const status = app.get(DaprAuthStatus);
    await eventually(() => status.sidecarApi.state === state, `state ${state}`);
    expect(app.get(DaprAuthHealthIndicator).isHealthy()['dapr-auth']).toMatchObject({ status: 'degraded', sidecarApi: state });
  });

  it('without DAPR_HTTP_PORT, or with sidecarApiCheck: false: not checked, nothing sent', async () => {
    delete process.env.DAPR_HTTP_PORT;
    app = await startApp();
    expect(app.get(DaprAuthStatus).sidecarApi).toEqual({ state: 'not-checked' });
    expect(app.get(DaprAuthStatus).callerRulesRefused).toBe(false);
    await app.close();
    ({ api } = await fakeDaprd(answers.open));
    app = await startApp({ sidecarApiCheck: false });
    await sleep(300);
    expect(app.get(DaprAuthStatus).sidecarApi.state).toBe('not-checked');
    expect(api.requests).toEqual([]);
  });
});

describe.each(HTTP_PLATFORMS)('caller rules wait for the sidecar check (HTTP on %s)', (_name, platform) => {
  isolateEnvironment();
  let app: INestApplication | undefined;
  const apis: FakeDaprApi[] = [];
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all(apis.splice(0).map((api) => api.close()));
  });

  async function start(answer: Answer, options: DaprAuthModuleOptions = {}, listening = true) {
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    const { api, port } = await fakeDaprd(answer, listening);
    apis.push(api);
    const started = await startHttp(moduleWith([OrdersController], options), platform);
    app = started.app;
    const cancel = (caller = 'checkout') =>
      send(started.baseUrl, '/orders/cancel', { method: 'POST', headers: { 'dapr-api-token': TOKEN, 'dapr-caller-app-id': caller } });
    const state = (wanted: SidecarApiState) => eventually(() => app!.get(DaprAuthStatus).sidecarApi.state === wanted, `state ${wanted}`);
    return { api, port, baseUrl: started.baseUrl, cancel, state };
  }

  it('open API: a forged but listed caller gets 403 (logged with the fix); a handler without a rule is untouched', async () => {
    const { baseUrl, cancel, state } = await start(answers.open);
    await state('open');
    const before = capturedOutput().length;
    const refused = await cancel();
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({ message: 'Forbidden', statusCode: 403 });
    expect((await send(baseUrl, '/orders', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    expect(capturedOutput().slice(before)).toMatch(
      /Rejected HTTP POST \/orders\/cancel: caller app "checkout" is listed, but caller rules refuse every call until the sidecar check has proven[^\n]*dapr\.io\/api-token-secret/,
    );
  });

  it("requires-token proven (401 without, 200 with the app's DAPR_API_TOKEN): the listed caller passes, others do not", async () => {
    const { cancel, state } = await start(answers.daprd);
    await state('requires-token');
    expect((await cancel()).status).toBe(201);
    expect((await cancel('intruder')).status).toBe(403);
  });

  it('before the check has answered: 403; once daprd is up and proven: 201', async () => {
    const { api, port, cancel, state } = await start(answers.daprd, {}, false);
    expect(app!.get(DaprAuthStatus).sidecarApi.state).toBe('checking');
    expect((await cancel()).status).toBe(403);
    await api.listen(port);
    await state('requires-token');
    expect((await cancel()).status).toBe(201);
  });

  it('a 302 to a listener that answers 401 (and would prove it): not followed, unexpected, 403', async () => {
    const target = new FakeDaprApi(answers.daprd);
    apis.push(target);
    const targetPort = await freePort();
    await target.listen(targetPort);
    const { cancel, state } = await start(answers.redirectTo(`http://127.0.0.1:${targetPort}/v1.0/metadata`));
    await state('unexpected');
    expect(app!.get(DaprAuthStatus).sidecarApi.statusCode).toBe(302);
    expect((await cancel()).status).toBe(403);
    expect(target.requests).toEqual([]);
  });

  it("a server answering 401 to everything (the app's DAPR_API_TOKEN too): token-refused, not proven, 403", async () => {
    const before = capturedOutput().length;
    const { cancel, state } = await start(answers.always401);
    await state('token-refused');
    expect(app!.get(DaprAuthStatus).callerRulesRefused).toBe(true);
    expect(app!.get(DaprAuthHealthIndicator).isHealthy()['dapr-auth']).toMatchObject({
      status: 'degraded',
      sidecarApi: 'token-refused',
      callerRulesRefused: true,
    });
    expect((await cancel()).status).toBe(403);
    expect(capturedOutput().slice(before)).toMatch(/ERROR[^\n]*401 without a token AND with this app's own DAPR_API_TOKEN: not proven/);
  });

  it('503, then daprd: retried, ends requires-token, 201', async () => {
    let unavailable = 2;
    const { api, cancel, state } = await start((headers, res) => (unavailable-- > 0 ? answers.unavailable(headers, res) : answers.daprd(headers, res)));
    await state('requires-token');
    // Two 503s, then the two questions; the wiring check may have read the metadata once more since.
    expect(api.requests.length).toBeGreaterThanOrEqual(4);
    expect(api.requests.length).toBeLessThanOrEqual(5);
    expect((await cancel()).status).toBe(201);
  });

  it('nothing listening: unreachable after the (shortened) bound, with one line, and 403', async () => {
    const before = capturedOutput().length;
    const { cancel, state } = await start(answers.daprd, {}, false);
    await state('unreachable');
    await sleep(500); // more failed attempts, still one line
    expect(
      capturedOutput()
        .slice(before)
        .match(/did not answer GET \/v1\.0\/metadata conclusively/g),
    ).toHaveLength(1);
    expect(capturedOutput().slice(before)).toMatch(
      /ERROR[^\n]*within 1500 ms \(last: connection refused\)[^\n]*caller rules \(POST \/orders\/cancel\) refuse every call/,
    );
    expect((await cancel()).status).toBe(403);
  });

  it('an API that becomes open after requires-token: 403 again after the next re-check', async () => {
    SIDECAR_API_CHECK_TIMING.recheckMs = 200;
    const { api, cancel, state } = await start(answers.daprd);
    await state('requires-token');
    expect((await cancel()).status).toBe(201);
    api.answer = answers.open;
    await state('open');
    expect((await cancel()).status).toBe(403);
  });
});

describe('caller rules and the sidecar check: the opt-outs, and a guard built in a feature module', () => {
  isolateEnvironment();
  let app: INestApplication | undefined;
  let api: FakeDaprApi | undefined;
  afterEach(async () => {
    await app?.close();
    await api?.close();
    app = api = undefined;
  });

  const cancel = (baseUrl: string) =>
    send(baseUrl, '/orders/cancel', { method: 'POST', headers: { 'dapr-api-token': TOKEN, 'dapr-caller-app-id': 'checkout' } });

  it('allowForgeableCallers: an open API is still logged, but the listed caller passes (the documented opt-out)', async () => {
    ({ api } = await fakeDaprd(answers.open));
    const before = capturedOutput().length;
    let baseUrl: string;
    ({ app, baseUrl } = await startHttp(moduleWith([OrdersController], { allowForgeableCallers: true }), HTTP_PLATFORMS[0][1]));
    await eventually(() => app!.get(DaprAuthStatus).sidecarApi.state === 'open', 'the check to settle');
    expect(app.get(DaprAuthStatus).callerRulesRefused).toBe(false);
    expect((await cancel(baseUrl)).status).toBe(201);
    expect(capturedOutput().slice(before)).toMatch(
      /ERROR[^\n]*answers without DAPR_API_TOKEN[^\n]*allowForgeableCallers is on: the caller rules \(POST \/orders\/cancel\) still let calls through/,
    );
  });

  it('sidecarApiCheck: false: as without DAPR_HTTP_PORT, the start-up rule alone (DAPR_API_TOKEN set)', async () => {
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    ({ api } = await fakeDaprd(answers.open));
    let baseUrl: string;
    ({ app, baseUrl } = await startHttp(moduleWith([OrdersController], { sidecarApiCheck: false }), HTTP_PLATFORMS[0][1]));
    expect((await cancel(baseUrl)).status).toBe(201);
    expect(api.requests).toEqual([]);
  });

  it('@DaprCallers in a feature module, the guard not global: held shut too', async () => {
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    ({ api } = await fakeDaprd(answers.open));
    @Module({ controllers: [OrdersController] })
    class FeatureModule {}
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN }), FeatureModule] })
    class RootModule {}
    let baseUrl: string;
    ({ app, baseUrl } = await startHttp({ module: RootModule }, HTTP_PLATFORMS[0][1]));
    await eventually(() => app!.get(DaprAuthStatus).sidecarApi.state === 'open', 'the check to settle');
    expect((await cancel(baseUrl)).status).toBe(403);
  });
});

describe('caller rules wait for the sidecar check (gRPC)', () => {
  isolateEnvironment();
  let close: (() => Promise<void>) | undefined;
  let api: FakeDaprApi | undefined;
  afterEach(async () => {
    await close?.();
    await api?.close();
    close = api = undefined;
  });

  async function start(answer: Answer) {
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    ({ api } = await fakeDaprd(answer));
    const { app, address } = await startGrpcModule(moduleWith([CallbackController]));
    const client = grpcClient('AppCallback', address);
    close = async () => {
      client.close();
      await app.close();
    };
    const metadata = new grpc.Metadata();
    metadata.add('dapr-api-token', TOKEN);
    metadata.add('dapr-caller-app-id', 'checkout');
    const invoke = () => callUnary(client, 'OnInvoke', { method: 'cancel' }, metadata);
    const state = (wanted: SidecarApiState) => eventually(() => app.get(DaprAuthStatus).sidecarApi.state === wanted, `state ${wanted}`);
    return { invoke, state };
  }

  it('open API: a forged but listed caller gets 7 PERMISSION_DENIED', async () => {
    const { invoke, state } = await start(answers.open);
    await state('open');
    expect(await invoke()).toEqual({ code: 7, details: 'Forbidden' });
  });

  it('requires-token proven: the listed caller passes', async () => {
    const { invoke, state } = await start(answers.daprd);
    await state('requires-token');
    expect((await invoke()).code).toBe(0);
  });
});

describe('the gate after a restart, and a DAPR_HTTP_PORT that is not a port (outside review)', () => {
  isolateEnvironment();
  let cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  it('a microservice closed and listening again shuts the rules and proves the API again (no hook runs then)', async () => {
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    const { api } = await fakeDaprd(answers.daprd);
    cleanup.push(() => api.close());
    const { app, address } = await startGrpcModule(moduleWith([CallbackController]));
    cleanup.push(() => app.close());
    const metadata = new grpc.Metadata();
    metadata.add('dapr-api-token', TOKEN);
    metadata.add('dapr-caller-app-id', 'checkout');
    const invoke = async () => {
      const client = grpcClient('AppCallback', address);
      try {
        return (await callUnary(client, 'OnInvoke', { method: 'cancel' }, metadata)).code;
      } finally {
        client.close();
      }
    };
    await eventually(() => app.get(DaprAuthStatus).sidecarApi.state === 'requires-token', 'requires-token');
    expect(await invoke()).toBe(0);
    await app.close();
    // daprd's API opened while the app was down; the restarted app must not keep the old proof.
    api.answer = answers.open;
    const before = api.requests.length;
    await app.listen();
    expect(await invoke()).toBe(7);
    await eventually(() => api.requests.length > before, 'the check asking again');
    await eventually(() => app.get(DaprAuthStatus).sidecarApi.state === 'open', 'open');
    expect(await invoke()).toBe(7);
    api.answer = answers.daprd;
  });

  it.each(['3500x', '0', '65536', 'tcp://127.0.0.1:3500', '  '])('DAPR_HTTP_PORT=%p: caller rules refuse (not "unset")', async (value) => {
    process.env.DAPR_HTTP_PORT = value;
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    const { app, baseUrl } = await startHttp(moduleWith([OrdersController]), HTTP_PLATFORMS[0][1]);
    cleanup.push(() => app.close());
    const forged = await send(baseUrl, '/orders/cancel', { method: 'POST', headers: { 'dapr-api-token': TOKEN, 'dapr-caller-app-id': 'checkout' } });
    expect(forged.status).toBe(403);
    expect(app.get(DaprAuthStatus).sidecarApi.state).toBe('unexpected');
    expect(capturedOutput()).toContain('DAPR_HTTP_PORT is set, but not to a port number');
    expect(capturedOutput()).not.toContain(`=${value}`);
  });
});
