import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { Controller, Module, Post, type INestApplication } from '@nestjs/common';
import { DaprAuthModule, DaprAuthStatus, DaprPublic } from 'nestjs-dapr-auth';
import { SIDECAR_API_CHECK_TIMING } from '../libs/dapr-auth/src/callers/sidecar-api-check.js';
import { SIDECAR_WIRING_TIMING } from '../libs/dapr-auth/src/wiring/sidecar-wiring-check.js';
import { eventually } from './support/eventually.js';
import { HTTP_PLATFORMS, startHttpApp } from './support/http.js';
import { freePort } from './support/ports.js';
import { capturedOutput, registerSecret } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';

/**
 * The wiring check against what may not be daprd: a fake daprd API proves itself (401 without
 * DAPR_API_TOKEN, 200 with it) and then answers the metadata with hostile bodies. The check must
 * end `unreadable` or compare what it could read, bounded, with log lines that carry nothing
 * unprintable and no more than a bounded number of them. The real daprd suite is
 * test/dapr/sidecar-wiring.dapr-spec.ts.
 */

const DAPR_API_TOKEN = 'dapr-api-token-of-the-wiring-e2e-0123456789';
registerSecret(DAPR_API_TOKEN);

@Controller()
class DeliveryController {
  @Post('orders')
  @DaprPublic()
  orders() {
    return {};
  }
}

@Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true })], controllers: [DeliveryController] })
class DeliveryModule {}

/** A daprd API that proves itself and answers GET /v1.0/metadata WITH the token through `metadata`. */
function fakeDaprd(metadata: (res: ServerResponse) => void): { server: Server; requests: IncomingHttpHeaders[] } {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((request, res) => {
    requests.push(request.headers);
    if (request.headers['dapr-api-token'] !== DAPR_API_TOKEN) return void res.writeHead(401).end('invalid api token');
    metadata(res);
  });
  return { server, requests };
}

describe('the wiring check against hostile metadata', () => {
  const saved = { DAPR_HTTP_PORT: process.env.DAPR_HTTP_PORT, DAPR_API_TOKEN: process.env.DAPR_API_TOKEN };
  const timing = { api: { ...SIDECAR_API_CHECK_TIMING }, wiring: { ...SIDECAR_WIRING_TIMING } };
  let app: INestApplication | undefined;
  let server: Server | undefined;
  beforeEach(() => {
    Object.assign(SIDECAR_API_CHECK_TIMING, { firstRetryMs: 50, maxRetryMs: 200, requestTimeoutMs: 1000 });
    Object.assign(SIDECAR_WIRING_TIMING, { secondLookMs: 60_000, notListeningRetryMs: 50 });
  });
  afterEach(async () => {
    await app?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    app = server = undefined;
    Object.assign(SIDECAR_API_CHECK_TIMING, timing.api);
    Object.assign(SIDECAR_WIRING_TIMING, timing.wiring);
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  async function start(metadata: (res: ServerResponse) => void): Promise<DaprAuthStatus> {
    const port = await freePort();
    ({ server } = fakeDaprd(metadata));
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    process.env.DAPR_HTTP_PORT = String(port);
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    ({ app } = await startHttpApp(DeliveryModule, HTTP_PLATFORMS[0][1]));
    return app.get(DaprAuthStatus);
  }

  const json = (body: unknown) => (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  it.each<[string, (res: ServerResponse) => void, string]>([
    ['not JSON', (res) => res.writeHead(200).end('<html>'), 'not JSON'],
    ['larger than 1 MiB', (res) => res.writeHead(200).end(`{"x":"${'a'.repeat(1024 * 1024 + 10)}"}`), 'larger than 1 MiB'],
    ['nested 100,000 deep', (res) => res.writeHead(200).end(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), ''],
    [
      '{} (not daprd metadata: nothing to compare, never an all-clear)',
      (res) => res.writeHead(200).end('{}'),
      'not daprd metadata (no id, no appConnectionProperties)',
    ],
  ])('an answer %s: unreadable or compared, never a crash, one line', async (_name, metadata, failure) => {
    const status = await start(metadata);
    await eventually(() => status.sidecarWiring.state === 'unreadable' || status.sidecarWiring.state === 'checked', 'the wiring check to settle');
    if (status.sidecarWiring.state === 'unreadable') {
      if (failure !== '') expect(status.sidecarWiring.failure).toBe(failure);
      expect(
        capturedOutput().match(
          /Sidecar wiring: (daprd's metadata \(GET \/v1\.0\/metadata\) could not be read|what answers GET \/v1\.0\/metadata is not daprd's metadata)/g,
        ),
      ).toHaveLength(1);
    }
  });

  it('names from the answer reach the log only as visible ASCII, cut at 200 characters', async () => {
    const topic = `orders\n[Nest] 1 - ERROR forged line \u001b[31m${'x'.repeat(400)}`;
    const status = await start(json({ id: 'orders', subscriptions: [{ pubsubname: 'pubsub', topic, rules: [{ path: '/orders' }], type: 'PROGRAMMATIC' }] }));
    await eventually(() => status.sidecarWiring.state === 'checked', 'the wiring check to compare');
    expect(status.sidecarWiring.findings.map((finding) => finding.kind)).toEqual(['subscription-public']);
    const line = capturedOutput()
      .split('\n')
      .find((candidate) => candidate.includes('Sidecar wiring: daprd delivers'))!;
    expect(line).toContain('topic "orders?[Nest] 1 - ERROR forged line ?[31mxxx');
    expect(line).not.toMatch(/x{201}/);
    expect(capturedOutput()).not.toMatch(/^\[Nest\] 1 - ERROR forged line/m);
  });

  it('an answer that echoes the DAPR_API_TOKEN it was sent (whole, cut, split, in another case, escaped) puts no piece of it in a log line or the status', async () => {
    const half = DAPR_API_TOKEN.length / 2;
    const escaped = [...DAPR_API_TOKEN].map((character) => `%${character.charCodeAt(0).toString(16)}`).join('');
    const status = await start(
      json({
        id: 'orders',
        appConnectionProperties: { port: 1, protocol: 'http', health: { healthCheckPath: `/${DAPR_API_TOKEN}` } },
        subscriptions: [
          { pubsubname: 'pubsub', topic: `t-${DAPR_API_TOKEN}`, rules: [{ path: `/x/${DAPR_API_TOKEN}` }], type: 'PROGRAMMATIC' },
          { pubsubname: `ps-${DAPR_API_TOKEN.slice(half)}`, topic: `split-${DAPR_API_TOKEN.slice(0, half)}`, rules: [{ path: '/a' }], type: 'PROGRAMMATIC' },
          {
            pubsubname: 'pubsub',
            topic: `${'c'.repeat(160)}${DAPR_API_TOKEN}`,
            rules: [{ path: `/${'c'.repeat(160)}${DAPR_API_TOKEN}` }],
            type: 'PROGRAMMATIC',
          },
          {
            pubsubname: 'pubsub',
            topic: 'lower',
            rules: [{ path: `/lower/${DAPR_API_TOKEN.toLowerCase()}` }, { path: `/pct/${escaped}` }],
            type: 'PROGRAMMATIC',
          },
        ],
      }),
    );
    await eventually(() => status.sidecarWiring.state === 'checked', 'the wiring check to compare');
    expect(capturedOutput()).toContain('topic "[redacted]" of pubsub');
    const shown = `${capturedOutput()}\n${JSON.stringify(status.sidecarWiring)}`.toLowerCase();
    for (let start = 0; start + 8 <= DAPR_API_TOKEN.length; start++) expect(shown).not.toContain(DAPR_API_TOKEN.slice(start, start + 8).toLowerCase());
    expect(shown).not.toContain(escaped.slice(0, 24).toLowerCase());
    // The registered secret: test/setup/secrets.ts fails the test if any output carries it.
  });

  it('a thousand unserved subscriptions: bounded lines, then one that says the rest is in the status', async () => {
    const subscriptions = Array.from({ length: 1000 }, (_, i) => ({
      pubsubname: 'pubsub',
      topic: `t${i}`,
      rules: [{ path: `/nowhere/${i}` }],
      type: 'PROGRAMMATIC',
    }));
    const status = await start(json({ id: 'orders', subscriptions }));
    await eventually(() => status.sidecarWiring.state === 'checked', 'the wiring check to compare');
    // Every one compared; logged at most 50 lines, and one that says so.
    expect(status.sidecarWiring.findings).toHaveLength(1000);
    expect(capturedOutput().match(/Sidecar wiring: daprd delivers topic/g)).toHaveLength(50);
    expect(capturedOutput()).toContain('Sidecar wiring: more than 50 findings; the rest are not logged (DaprAuthStatus.sidecarWiring lists them).');
  });
});
