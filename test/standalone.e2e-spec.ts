import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaprServer, HttpMethod, LogLevel } from '@dapr/dapr';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { Express } from 'express';
import fastify from 'fastify';
import {
  createDaprTokenCheck,
  DaprAuthConfigError,
  daprAuthExpressMiddleware,
  daprAuthFastifyHook,
  type DaprTokenCheck,
  type DaprTokenCheckLogger,
  type DaprTokenCheckOptions,
} from 'nestjs-dapr-auth/standalone';
import * as mainEntry from 'nestjs-dapr-auth';
import { KubeletAtomicWriter } from './support/atomic-writer.js';
import { eventually } from './support/eventually.js';
import { send, sendRaw } from './support/http.js';
import { freePort } from './support/ports.js';
import { capturedOutput, registerSecret } from './support/secrets.js';
import { PREVIOUS_TOKEN, TOKEN, WRONG_TOKEN } from './support/tokens.js';

/**
 * The check without Nest (`nestjs-dapr-auth/standalone`) over every way in it offers, each a real
 * server on 127.0.0.1: the Express middleware on Express 4 (what `@dapr/dapr` ships) and Express 5,
 * the Fastify hook, the plain function in a `node:http` server, and `@dapr/dapr`'s `DaprServer`
 * with the middleware on its `serverHttp` app, or added to its app after construction (what a
 * provider does for `@rayondigital/nest-dapr`). The real daprd suite is
 * test/dapr/dapr-server.dapr-spec.ts.
 */

const UNAUTHORIZED_BODY = { message: 'Unauthorized', statusCode: 401 };
const PUBSUB_ROUTE = '/pubsub--orders--default';
const requireHere = createRequire(import.meta.url);
type ExpressFactory = () => Express;
// Express 4 (what @dapr/dapr ships), installed as the alias express4 beside the Express 5 of the GraphQL suite.
const express4 = requireHere('express4') as ExpressFactory;
// Express 5: the one @nestjs/platform-express 12 brings.
const requireFromNestExpress = createRequire(requireHere.resolve('@nestjs/platform-express'));
const express5 = requireFromNestExpress('express') as ExpressFactory;

/** Every line the check logged, by level. */
function recordingLogger(): DaprTokenCheckLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    log: (message) => lines.push(`log ${message}`),
    warn: (message) => lines.push(`warn ${message}`),
    error: (message) => lines.push(`error ${message}`),
  };
}

/** A started server: its URL, the handlers that ran, and the raw request targets it received. */
interface Running {
  baseUrl: string;
  handled: string[];
  received: string[];
  close(): Promise<void>;
}

/** The request targets as they reached the server, to prove a variant arrived as written. */
function recordTargets(server: Server, received: string[]): void {
  server.on('request', (request: IncomingMessage) => received.push(`${request.method} ${request.url}`));
}

async function listening(server: Server): Promise<string> {
  if (!server.listening) await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The routes every way in serves: daprd's probe, a pub/sub delivery route, and nothing else (404). */
function expressApp(factory: ExpressFactory, install: (app: Express) => void, handled: string[]): Express {
  const app = factory();
  install(app);
  app.get('/healthz', (_req, res) => {
    handled.push('healthz');
    res.json({ status: 'up' });
  });
  app.post(PUBSUB_ROUTE, (_req, res) => {
    handled.push('pubsub');
    res.json({ status: 'SUCCESS' });
  });
  app.use((req, res) => {
    handled.push(`other ${req.method}`);
    res.status(404).end();
  });
  return app;
}

async function startExpress(factory: ExpressFactory, check: DaprTokenCheck): Promise<Running> {
  const handled: string[] = [];
  const received: string[] = [];
  const server = createServer(expressApp(factory, (app) => app.use(daprAuthExpressMiddleware(check)), handled));
  recordTargets(server, received);
  server.listen(0, '127.0.0.1');
  return { baseUrl: await listening(server), handled, received, close: () => closeServer(server) };
}

async function startFastify(check: DaprTokenCheck): Promise<Running> {
  const handled: string[] = [];
  const received: string[] = [];
  const app = fastify();
  app.addHook('onRequest', daprAuthFastifyHook(check));
  app.get('/healthz', async () => {
    handled.push('healthz');
    return { status: 'up' };
  });
  app.post(PUBSUB_ROUTE, async () => {
    handled.push('pubsub');
    return { status: 'SUCCESS' };
  });
  app.all('/*', async (request, reply) => {
    handled.push(`other ${request.method}`);
    return reply.code(404).send();
  });
  recordTargets(app.server, received);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { baseUrl: await listening(app.server), handled, received, close: () => app.close() };
}

/** "Anything else": the plain function in a bare node:http server. */
async function startPlainNode(check: DaprTokenCheck): Promise<Running> {
  const handled: string[] = [];
  const received: string[] = [];
  const server = createServer((request, response) => {
    const verdict = check.verifyRequest(request);
    if (!verdict.ok) {
      response.writeHead(verdict.status, { 'content-type': verdict.contentType }).end(verdict.body);
      return;
    }
    const route = `${request.method} ${request.url?.split('?')[0]}`;
    if (route === 'GET /healthz' || route === 'HEAD /healthz') handled.push('healthz');
    else if (route === `POST ${PUBSUB_ROUTE}`) handled.push('pubsub');
    else handled.push(`other ${request.method}`);
    response.writeHead(route.endsWith('/healthz') || route.endsWith(PUBSUB_ROUTE) ? 200 : 404).end();
  });
  recordTargets(server, received);
  server.listen(0, '127.0.0.1');
  return { baseUrl: await listening(server), handled, received, close: () => closeServer(server) };
}

/**
 * `@dapr/dapr`'s DaprServer on an Express app of ours. `install: 'serverHttp'` installs the
 * middleware before `new DaprServer` (the recipe); `'after construction'` adds it to DaprServer's
 * app afterwards, behind the body parsers DaprServer's constructor installed (what a provider can do
 * for @rayondigital/nest-dapr); `'none'`: no check (the hole). DaprServer registers its routes when
 * they are subscribed to (HTTPServerImpl.registerPubsubSubscription), so after the middleware.
 */
async function startDaprServer(check: DaprTokenCheck | undefined, install: 'serverHttp' | 'after construction' | 'none'): Promise<Running> {
  const handled: string[] = [];
  const received: string[] = [];
  const app = express4();
  if (install === 'serverHttp') app.use(daprAuthExpressMiddleware(check));
  let server: Server | undefined;
  // DaprServer calls serverHttp.listen(port) without a host (HTTPServer.start): every interface. Here, loopback only.
  app.listen = ((port: number) => (server = createServer(app).listen(port, '127.0.0.1'))) as unknown as Express['listen'];
  const port = await freePort();
  const daprServer = new DaprServer({ serverHost: '127.0.0.1', serverPort: String(port), serverHttp: app, logger: { level: LogLevel.Error } });
  const express = daprServer.daprServer.getServer() as Express;
  expect(express).toBe(app);
  if (install === 'after construction') express.use(daprAuthExpressMiddleware(check));
  express.get('/healthz', (_req, res) => {
    handled.push('healthz');
    res.json({ status: 'up' });
  });
  await daprServer.pubsub.subscribe('pubsub', 'orders', async () => {
    handled.push('pubsub');
  });
  await daprServer.invoker.listen('plain', async () => ({ invoked: true }), { method: HttpMethod.GET });
  // The server's own start, without its client's wait for a sidecar (the daprd suite runs the whole of it).
  await daprServer.daprServer.start('127.0.0.1', String(port));
  express.use((req, res) => {
    handled.push(`other ${req.method}`);
    res.status(404).end();
  });
  recordTargets(server!, received);
  return { baseUrl: await listening(server!), handled, received, close: () => daprServer.stop() };
}

const WAYS_IN = [
  ['Express 4 middleware', (check: DaprTokenCheck) => startExpress(express4, check)],
  ['Express 5 middleware', (check: DaprTokenCheck) => startExpress(express5, check)],
  ['Fastify onRequest hook', startFastify],
  ['node:http with verifyRequest()', startPlainNode],
  ['DaprServer, middleware on serverHttp', (check: DaprTokenCheck) => startDaprServer(check, 'serverHttp')],
  ['DaprServer, middleware added after construction', (check: DaprTokenCheck) => startDaprServer(check, 'after construction')],
] as const;

/** A pub/sub delivery as daprd sends it, with the given headers. */
function deliver(baseUrl: string, headers: Record<string, string | string[]>) {
  return send(baseUrl, PUBSUB_ROUTE, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ data: { item: 'tea' } }),
  });
}

const daprEnv = { DAPR_SERVER_PORT: process.env.DAPR_SERVER_PORT, DAPR_CLIENT_PORT: process.env.DAPR_CLIENT_PORT };
afterAll(() => {
  // DaprServer's constructor writes them (DaprServer.ts).
  for (const [name, value] of Object.entries(daprEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('the check without Nest is published from both entry points', () => {
  it('nestjs-dapr-auth exports the same functions as nestjs-dapr-auth/standalone', () => {
    expect(mainEntry.createDaprTokenCheck).toBe(createDaprTokenCheck);
    expect(mainEntry.daprAuthExpressMiddleware).toBe(daprAuthExpressMiddleware);
    expect(mainEntry.daprAuthFastifyHook).toBe(daprAuthFastifyHook);
    expect(mainEntry.DaprAuthConfigError).toBe(DaprAuthConfigError);
    expect(mainEntry.REJECTION_HTTP_BODY).toBe(JSON.stringify(UNAUTHORIZED_BODY));
  });

  it('uses Express 4 and 5 as labelled', () => {
    expect((requireHere('express4/package.json') as { version: string }).version).toMatch(/^4\./);
    expect((requireFromNestExpress('express/package.json') as { version: string }).version).toMatch(/^5\./);
  });
});

describe.each(WAYS_IN)('%s', (_name, start) => {
  let running: Running;
  let check: DaprTokenCheck;
  const logger = recordingLogger();

  beforeAll(async () => {
    // Two accepted tokens (a rotation); every rejection logged, so that the log can be read per case.
    check = createDaprTokenCheck({ token: [TOKEN, PREVIOUS_TOKEN], rejectionLogLimit: false, logger });
    running = await start(check);
  });
  afterAll(async () => {
    await running?.close();
    await check?.close();
  });
  beforeEach(() => {
    running.handled.length = 0;
    running.received.length = 0;
    logger.lines.length = 0;
  });

  it.each([
    ['the token', { 'dapr-api-token': TOKEN }],
    ['the other accepted token (a rotation)', { 'dapr-api-token': PREVIOUS_TOKEN }],
    ['the token, as Go sends the name (Dapr-Api-Token)', { 'Dapr-Api-Token': TOKEN }],
  ])('accepts %s: the handler runs', async (_case, headers) => {
    const outcome = await deliver(running.baseUrl, headers);
    expect(outcome.status).toBe(200);
    expect(running.handled).toEqual(['pubsub']);
  });

  it.each([
    ['absent', {}],
    ['empty', { 'dapr-api-token': '' }],
    ['wrong', { 'dapr-api-token': WRONG_TOKEN }],
    ['sent twice (same value)', { 'dapr-api-token': [TOKEN, TOKEN] }],
    ['sent twice (valid and wrong)', { 'dapr-api-token': [TOKEN, WRONG_TOKEN] }],
    ['the two accepted ones joined', { 'dapr-api-token': `${TOKEN}, ${PREVIOUS_TOKEN}` }],
    ['a prefix of it', { 'dapr-api-token': TOKEN.slice(0, -1) }],
    ['it with a suffix', { 'dapr-api-token': `${TOKEN}x` }],
    ['it in upper case', { 'dapr-api-token': TOKEN.toUpperCase() }],
    ['it with a space inside', { 'dapr-api-token': `${TOKEN.slice(0, 20)} ${TOKEN.slice(20)}` }],
    ['it with its last character changed (latin1)', { 'dapr-api-token': `${TOKEN.slice(0, -1)}\u00e9` }],
    ['longer than 4096 characters', { 'dapr-api-token': `${TOKEN}${'a'.repeat(4096)}` }],
    ['in Authorization: Bearer', { authorization: `Bearer ${TOKEN}` }],
    ['in a cookie', { cookie: `dapr-api-token=${TOKEN}` }],
    ['in a look-alike header', { 'x-dapr-api-token': TOKEN }],
  ])('refuses a token %s: 401 with the guard body, and the handler never runs', async (_case, headers) => {
    const outcome = await deliver(running.baseUrl, headers as Record<string, string | string[]>);
    expect(outcome.status).toBe(401);
    expect(outcome.json).toEqual(UNAUTHORIZED_BODY);
    expect(running.handled).toEqual([]);
    expect(running.received).toEqual([`POST ${PUBSUB_ROUTE}`]);
  });

  it('never takes the token from the query string', async () => {
    const outcome = await send(running.baseUrl, `${PUBSUB_ROUTE}?dapr-api-token=${TOKEN}`, { method: 'POST' });
    expect(outcome.status).toBe(401);
    expect(running.handled).toEqual([]);
  });

  it("lets daprd's health probe through without a token: GET and HEAD to exactly the path, query ignored", async () => {
    for (const [method, path] of [
      ['GET', '/healthz'],
      ['HEAD', '/healthz'],
      ['GET', '/healthz?probe=1'],
    ]) {
      expect({ method, path, status: (await send(running.baseUrl, path, { method })).status }).toEqual({ method, path, status: 200 });
    }
    expect(running.handled).toEqual(['healthz', 'healthz', 'healthz']);
  });

  it.each([
    ['GET', '/healthz/'],
    ['GET', '/HEALTHZ'],
    ['GET', '/Healthz'],
    ['GET', '/healthz%2F'],
    ['GET', '/%68ealthz'],
    ['GET', '//healthz'],
    ['GET', '/healthz/..'],
    ['GET', '/healthz;x'],
    ['GET', '/healthzz'],
    ['GET', '/x/../healthz'],
    ['POST', '/healthz'],
    ['PUT', '/healthz'],
    ['OPTIONS', '/healthz'],
  ])('requires the token on a variant of the probe: %s %s (401, nothing runs)', async (method, path) => {
    // Raw bytes: an HTTP client would resolve the dot segments before sending.
    const status = await sendRaw(running.baseUrl, Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    expect(status).toBe(401);
    expect(running.received).toEqual([`${method} ${path}`]);
    expect(running.handled).toEqual([]);
  });

  it('logs why it refused, never the token, the URL or the path (Fastify: the route pattern)', async () => {
    await deliver(running.baseUrl, {});
    await deliver(running.baseUrl, { 'dapr-api-token': WRONG_TOKEN });
    await deliver(running.baseUrl, { 'dapr-api-token': [TOKEN, TOKEN] });
    await send(running.baseUrl, `/secret-path-${TOKEN}?dapr-api-token=${TOKEN}`, { method: 'POST' });
    const fastify = _name.startsWith('Fastify');
    const target = fastify ? PUBSUB_ROUTE : '(path not logged)';
    expect(logger.lines).toEqual([
      `warn Rejected HTTP POST ${target}: missing token (no dapr-api-token header)`,
      `warn Rejected HTTP POST ${target}: token mismatch (not an accepted token)`,
      `warn Rejected HTTP POST ${target}: malformed token: several values (a second dapr-api-token header or metadata entry)`,
      `warn Rejected HTTP POST ${fastify ? '/*' : target}: missing token (no dapr-api-token header)`,
    ]);
  });
});

describe('the check without Nest: options', () => {
  const originalToken = process.env.APP_API_TOKEN;
  afterEach(() => {
    if (originalToken === undefined) delete process.env.APP_API_TOKEN;
    else process.env.APP_API_TOKEN = originalToken;
  });

  it('reads APP_API_TOKEN by default, as daprd does, and says where the token came from', async () => {
    process.env.APP_API_TOKEN = TOKEN;
    const logger = recordingLogger();
    const check = createDaprTokenCheck({ logger });
    expect(check.verify({ 'dapr-api-token': TOKEN })).toEqual({ ok: true });
    expect(check.verify({ 'dapr-api-token': WRONG_TOKEN })).toMatchObject({ ok: false, status: 401 });
    expect(logger.lines[0]).toBe(
      "log Checking dapr-api-token: 1 accepted token(s) from environment variable APP_API_TOKEN; daprd's health probe (GET /healthz) passes without it.",
    );
    await check.close();
  });

  it('reads a fetch API Headers object too (two values arrive joined, and are refused)', async () => {
    const check = createDaprTokenCheck({ token: TOKEN, logger: recordingLogger() });
    expect(check.verify(new Headers({ 'Dapr-Api-Token': TOKEN }))).toEqual({ ok: true });
    const twice = new Headers();
    twice.append('dapr-api-token', TOKEN);
    twice.append('dapr-api-token', TOKEN);
    expect(check.verify(twice).ok).toBe(false);
    expect(check.verify(new Headers()).ok).toBe(false);
    // verify() is the token alone: no exemption without a request.
    expect(check.verifyRequest({ method: 'GET', url: '/healthz', headers: {} }).ok).toBe(true);
    expect(check.verify({}).ok).toBe(false);
    await check.close();
  });

  it('a tokenHeader, healthCheckPath and exemptTokenlessDaprCalls of its own', async () => {
    const logger = recordingLogger();
    const check = createDaprTokenCheck({ token: TOKEN, tokenHeader: 'x-app-token', healthCheckPath: '/health/live', logger });
    expect(check.verify({ 'x-app-token': TOKEN }).ok).toBe(true);
    expect(check.verify({ 'dapr-api-token': TOKEN }).ok).toBe(false);
    expect(check.verifyRequest({ method: 'GET', url: '/health/live', headers: {} }).ok).toBe(true);
    expect(check.verifyRequest({ method: 'GET', url: '/healthz', headers: {} }).ok).toBe(false);
    expect(logger.lines).toContainEqual('warn Rejected HTTP request: missing token (no x-app-token header)');
    const strict = createDaprTokenCheck({ token: TOKEN, exemptTokenlessDaprCalls: false, logger });
    expect(strict.verifyRequest({ method: 'GET', url: '/healthz', headers: {} }).ok).toBe(false);
    expect(strict.verifyRequest({ method: 'GET', url: '/healthz', headers: { 'dapr-api-token': TOKEN } }).ok).toBe(true);
    await Promise.all([check.close(), strict.close()]);
  });

  it('allowUnconfigured without a token lets everything through, loudly', async () => {
    delete process.env.APP_API_TOKEN;
    const logger = recordingLogger();
    const check = createDaprTokenCheck({ allowUnconfigured: true, logger });
    expect(check.verify({}).ok).toBe(true);
    expect(logger.lines).toContainEqual(
      expect.stringMatching(/^warn allowUnconfigured is on and no token is configured: EVERY request is let through unchecked/),
    );
    await check.close();
  });

  it.each<[string, object, RegExp]>([
    ...['global', 'unprotected', 'callers', 'allowForgeableCallers', 'sidecarApiCheck', 'extractToken', 'jwt', 'mode', 'rotationQuietPeriod'].map(
      (name) =>
        [
          `Nest-only option ${name}`,
          { [name]: true },
          new RegExp(
            `^createDaprTokenCheck: option \`${name}\` needs DaprAuthModule: without Nest, only the token is checked \\(no caller rules, JWT, report-only mode, audit or status\\)\\. Remove it\\.$`,
          ),
        ] as [string, object, RegExp],
    ),
    ['an unknown option', { isGlobal: true }, /unknown option `isGlobal`\. Known options: token, tokenEnvVar, tokenFile,/],
    ['a wrong type', { maxTokenLength: '10' }, /option `maxTokenLength` must be a whole number from 1 to 65536, got a string\./],
    ['a logger without warn', { logger: { log: () => undefined } }, /option `logger` must be an object with log, warn and error methods, got an object\./],
    [
      'a token put in place of a variable name',
      { tokenEnvVar: TOKEN },
      /environment variable \(name not shown: it does not look like an environment variable name; a token put there\?\)/,
    ],
  ])('refuses %s at once, naming the fix and never a token', (_case, options, message) => {
    let error: unknown;
    try {
      createDaprTokenCheck({ token: TOKEN, logger: recordingLogger(), ...(options as DaprTokenCheckOptions) });
    } catch (caught) {
      error = caught;
    }
    if (_case === 'a token put in place of a variable name') {
      // `token` and `tokenEnvVar` together are refused first; alone, the name is not shown.
      try {
        createDaprTokenCheck({ logger: recordingLogger(), tokenEnvVar: TOKEN });
      } catch (caught) {
        error = caught;
      }
    }
    expect(error).toBeInstanceOf(DaprAuthConfigError);
    expect((error as Error).message).toMatch(/^createDaprTokenCheck: /);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(TOKEN.slice(0, 8));
  });

  it('without a token: refuses to start, naming APP_API_TOKEN and the options', () => {
    delete process.env.APP_API_TOKEN;
    expect(() => createDaprTokenCheck({ logger: recordingLogger() })).toThrow(
      /^createDaprTokenCheck: no Dapr app API token is configured: environment variable APP_API_TOKEN is not set\..*`token` or `tokenSource` to createDaprTokenCheck\./,
    );
  });

  it('takes options or a check in the middleware and the hook (options: a check of its own, closed through it)', async () => {
    const logger = recordingLogger();
    const middleware = daprAuthExpressMiddleware({ token: TOKEN, logger });
    const hook = daprAuthFastifyHook({ token: TOKEN, logger });
    expect(middleware.check.verify({ 'dapr-api-token': TOKEN }).ok).toBe(true);
    expect(hook.check.verify({ 'dapr-api-token': TOKEN }).ok).toBe(true);
    expect(daprAuthExpressMiddleware(middleware.check).check).toBe(middleware.check);
    expect(() => daprAuthFastifyHook({ token: TOKEN, global: true } as DaprTokenCheckOptions)).toThrow(DaprAuthConfigError);
    await Promise.all([middleware.check.close(), hook.check.close()]);
  });

  it('logs to the console by default (captured by the leak check like every other line)', async () => {
    const check = createDaprTokenCheck({ token: TOKEN });
    check.verify({ 'dapr-api-token': WRONG_TOKEN });
    expect(capturedOutput()).toContain('[nestjs-dapr-auth] Rejected HTTP request: token mismatch (not an accepted token)');
    await check.close();
  });
});

describe('the check without Nest: a token file rotated as the kubelet does it', () => {
  // Random-looking, so that no 8 characters of one appear in ordinary log text (the leak check).
  const TOKENS = ['s0Kq9fT2mQx7LpV3nB8wR4tY6uE1sD5gH0jC2aZyW', 's1Jd8eS1lPw6KoU2mA7vQ3sX5tD0rC4fG9iB1zYxV'];
  registerSecret(...TOKENS);
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dapr-standalone-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['Express 4', (check: DaprTokenCheck) => startExpress(express4, check)],
    ['Fastify', startFastify],
  ] as const)('on %s: the new token at once, the old one for the grace period, then not', async (_name, start) => {
    const volume = join(dir, _name.replace(/\W/g, ''));
    mkdirSync(volume);
    const writer = new KubeletAtomicWriter(volume);
    writer.write({ token: `${TOKENS[0]}\n` });
    const logger = recordingLogger();
    const check = createDaprTokenCheck({ tokenFile: writer.tokenPath, tokenFilePollInterval: 100, tokenFileGracePeriod: 2000, logger });
    const running = await start(check);
    try {
      const status = async (token: string) => (await deliver(running.baseUrl, { 'dapr-api-token': token })).status;
      expect([await status(TOKENS[0]), await status(TOKENS[1])]).toEqual([200, 401]);
      writer.write({ token: TOKENS[1] });
      await eventually(async () => (await status(TOKENS[1])) === 200, 'the new token to be accepted');
      expect(await status(TOKENS[0])).toBe(200); // within the grace period
      await eventually(async () => (await status(TOKENS[0])) === 401, 'the old token to be refused after the grace period', 10_000);
      expect(await status(TOKENS[1])).toBe(200);
      // The file's own log goes to the check's logger (no Nest here).
      expect(logger.lines).toContainEqual(expect.stringMatching(/^log Token file .* changed: the new token is accepted now, the previous one for 2 s more\.$/));
    } finally {
      await running.close();
      await check.close();
    }
  });
});

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

describe('the check without Nest: metrics', () => {
  it('counts every decision (accepted, rejected by reason, exempt) and accepted tokens by generation', async () => {
    const reader = new TestReader();
    const check = createDaprTokenCheck({
      token: [TOKEN, PREVIOUS_TOKEN],
      metrics: { meterProvider: new MeterProvider({ readers: [reader] }) },
      logger: recordingLogger(),
    });
    await check.ready;
    const running = await startExpress(express4, check);
    try {
      await deliver(running.baseUrl, { 'dapr-api-token': TOKEN });
      await deliver(running.baseUrl, { 'dapr-api-token': PREVIOUS_TOKEN });
      await deliver(running.baseUrl, {});
      await deliver(running.baseUrl, { 'dapr-api-token': WRONG_TOKEN });
      await deliver(running.baseUrl, { 'dapr-api-token': [TOKEN, TOKEN] });
      await send(running.baseUrl, '/healthz');
      const { resourceMetrics } = await reader.collect();
      const points: Record<string, number> = {};
      for (const metric of resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)) {
        for (const point of metric.dataPoints) {
          const attributes = Object.entries(point.attributes)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, value]) => `${key}=${String(value)}`)
            .join(',');
          points[`${metric.descriptor.name}{${attributes}}`] = point.value as number;
        }
      }
      expect(points).toEqual({
        'dapr.auth.decisions{dapr.auth.outcome=accepted,dapr.auth.transport=http}': 2,
        'dapr.auth.decisions{dapr.auth.outcome=rejected,dapr.auth.reason=missing,dapr.auth.transport=http}': 1,
        'dapr.auth.decisions{dapr.auth.outcome=rejected,dapr.auth.reason=mismatch,dapr.auth.transport=http}': 1,
        'dapr.auth.decisions{dapr.auth.outcome=rejected,dapr.auth.reason=malformed,dapr.auth.transport=http}': 1,
        'dapr.auth.decisions{dapr.auth.outcome=exempt,dapr.auth.transport=http}': 1,
        'dapr.auth.token.accepted{dapr.auth.token.generation=current}': 1,
        'dapr.auth.token.accepted{dapr.auth.token.generation=previous}': 1,
        'dapr.auth.tokens{}': 2,
      });
    } finally {
      await running.close();
      await check.close();
    }
  });
});

describe('@dapr/dapr DaprServer without the check (the hole this closes)', () => {
  it('runs the pub/sub handler of a POST without any token', async () => {
    const running = await startDaprServer(undefined, 'none');
    try {
      expect((await deliver(running.baseUrl, {})).status).toBe(200);
      expect(running.handled).toEqual(['pubsub']);
    } finally {
      await running.close();
    }
  });
});
