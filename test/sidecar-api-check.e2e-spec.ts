import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DaprAuthHealthIndicator, DaprAuthModule, type DaprAuthModuleOptions, DaprAuthStatus } from 'nestjs-dapr-auth';
import { eventually } from './support/eventually.js';
import { testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { capturedOutput } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';

/**
 * The sidecar checked, not assumed: with DAPR_HTTP_PORT set, the app asks its daprd's API, after
 * start and in the background, whether it refuses a client without DAPR_API_TOKEN. A real HTTP
 * server on loopback stands in for daprd's API here (answering as daprd does: 401 "invalid api
 * token" with DAPR_API_TOKEN, 200 without); test/dapr/caller-identity.dapr-spec.ts asks real daprds.
 */
class FakeDaprApi {
  requests: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  private server: Server | undefined;
  constructor(private readonly answer: number) {}
  async listen(port: number): Promise<void> {
    this.server = createServer((request, res) => {
      this.requests.push({ url: request.url ?? '', headers: request.headers });
      res.writeHead(this.answer, { 'content-type': 'text/plain' }).end(this.answer === 401 ? 'invalid api token' : '{}');
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
  }
  close(): Promise<void> {
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

async function startApp(options: DaprAuthModuleOptions = {}): Promise<INestApplication> {
  @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true, ...options })], controllers: [XController] })
  class CheckedModule {}
  const app = await NestFactory.create(CheckedModule, { logger: testLogger(['fatal', 'error', 'warn', 'log']), abortOnError: false });
  await app.init();
  return app;
}

describe('the sidecar API check (DAPR_HTTP_PORT)', () => {
  const saved = process.env.DAPR_HTTP_PORT;
  let app: INestApplication | undefined;
  let api: FakeDaprApi | undefined;
  afterEach(async () => {
    await app?.close();
    await api?.close();
    app = api = undefined;
    if (saved === undefined) delete process.env.DAPR_HTTP_PORT;
    else process.env.DAPR_HTTP_PORT = saved;
  });

  it('a daprd that requires DAPR_API_TOKEN (401): requires-token, healthy; asked once, with no token of any kind', async () => {
    const port = await freePort();
    process.env.DAPR_HTTP_PORT = String(port);
    api = new FakeDaprApi(401);
    await api.listen(port);
    app = await startApp();
    const status = app.get(DaprAuthStatus);
    await eventually(() => status.sidecarApi.state === 'requires-token', 'the check to settle');
    expect(status.sidecarApi).toEqual({ state: 'requires-token', address: `http://127.0.0.1:${port}`, statusCode: 401 });
    expect(app.get(DaprAuthHealthIndicator).isHealthy()['dapr-auth']).toMatchObject({ status: 'up', sidecarApi: 'requires-token' });
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0].url).toBe('/v1.0/metadata');
    expect(Object.keys(api.requests[0].headers).filter((name) => /token/i.test(name))).toEqual([]);
  });

  it('a daprd whose API is open (200): an error line that names the fix, open in the status, degraded health', async () => {
    const port = await freePort();
    process.env.DAPR_HTTP_PORT = String(port);
    api = new FakeDaprApi(200);
    await api.listen(port);
    const before = capturedOutput().length;
    app = await startApp();
    const status = app.get(DaprAuthStatus);
    await eventually(() => status.sidecarApi.state === 'open', 'the check to settle');
    expect(app.get(DaprAuthHealthIndicator).isHealthy()['dapr-auth']).toMatchObject({ status: 'degraded', sidecarApi: 'open' });
    const output = capturedOutput().slice(before);
    expect(output).toMatch(/ERROR[^\n]*daprd's API at http:\/\/127\.0\.0\.1:\d+ answers without DAPR_API_TOKEN[^\n]*dapr\.io\/api-token-secret/);
    expect(api.requests.every((request) => request.headers['dapr-api-token'] === undefined)).toBe(true);
  });

  it('a daprd not up yet: start-up does not wait; the check retries until daprd answers', async () => {
    const port = await freePort();
    process.env.DAPR_HTTP_PORT = String(port);
    const started = Date.now();
    app = await startApp();
    expect(Date.now() - started).toBeLessThan(2000);
    const status = app.get(DaprAuthStatus);
    expect(status.sidecarApi.state).toBe('checking');
    await new Promise((resolve) => setTimeout(resolve, 700)); // at least one refused attempt
    api = new FakeDaprApi(401);
    await api.listen(port);
    await eventually(() => status.sidecarApi.state === 'requires-token', 'the check to settle after daprd came up', 10000);
  });

  it('without DAPR_HTTP_PORT, or with sidecarApiCheck: false: not checked, nothing sent', async () => {
    delete process.env.DAPR_HTTP_PORT;
    app = await startApp();
    expect(app.get(DaprAuthStatus).sidecarApi).toEqual({ state: 'not-checked' });
    await app.close();
    const port = await freePort();
    process.env.DAPR_HTTP_PORT = String(port);
    api = new FakeDaprApi(200);
    await api.listen(port);
    app = await startApp({ sidecarApiCheck: false });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(app.get(DaprAuthStatus).sidecarApi.state).toBe('not-checked');
    expect(api.requests).toEqual([]);
  });
});
