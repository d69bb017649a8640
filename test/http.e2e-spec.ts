import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DaprAuthGuard } from 'nestjs-dapr-auth';
import { HTTP_PLATFORMS, send, sendRaw, startHttpApp } from './support/http.js';
import { catchAllTestModule, httpTestModuleWith } from './support/http-test-app.js';
import { capturedOutput } from './support/secrets.js';
import { PREVIOUS_TOKEN, TOKEN, WRONG_TOKEN } from './support/tokens.js';

const UNAUTHORIZED_BODY = { message: 'Unauthorized', statusCode: 401 };

describe.each(HTTP_PLATFORMS)('HTTP on %s', (platformName, platform) => {
  const apps: INestApplication[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  async function start(options: Parameters<typeof httpTestModuleWith>[0]): Promise<string> {
    // Every rejection logged: these apps reject far more than rejectionLogLimit's 10 per window
    // before the log assertions (the limit has its own tests: rejection-log.e2e-spec.ts).
    const { app, baseUrl } = await startHttpApp(httpTestModuleWith({ rejectionLogLimit: false, ...options }), platform);
    apps.push(app);
    return baseUrl;
  }

  describe('global: true (APP_GUARD)', () => {
    let baseUrl: string;
    beforeAll(async () => {
      baseUrl = await start({ token: [TOKEN, PREVIOUS_TOKEN], global: true });
    });

    it('accepts the token on a route without any decorator', async () => {
      const outcome = await send(baseUrl, '/plain', { headers: { 'dapr-api-token': TOKEN } });
      expect(outcome).toMatchObject({ status: 200, json: { route: 'plain' } });
    });

    it('accepts every configured token (rotation)', async () => {
      expect((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': PREVIOUS_TOKEN } })).status).toBe(200);
    });

    it('checks a @DaprProtected() route once, not once for the global guard and again for the route guard', async () => {
      const extract = jest.spyOn(DaprAuthGuard.prototype as unknown as { extractToken: () => unknown }, 'extractToken');
      try {
        expect((await send(baseUrl, '/protected-method', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
        expect(extract).toHaveBeenCalledTimes(1);
        extract.mockClear();
        expect((await send(baseUrl, '/protected-method')).status).toBe(401); // still rejected, by the route guard
        expect(extract).toHaveBeenCalledTimes(1);
        extract.mockClear();
        expect((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
        expect(extract).toHaveBeenCalledTimes(1);
      } finally {
        extract.mockRestore();
      }
    });

    it('reads the header in any letter case (Go sends Dapr-Api-Token)', async () => {
      expect((await send(baseUrl, '/plain', { headers: { 'Dapr-Api-Token': TOKEN } })).status).toBe(200);
      expect((await send(baseUrl, '/plain', { headers: { 'DAPR-API-TOKEN': TOKEN } })).status).toBe(200);
    });

    it.each([
      ['missing', {}],
      ['empty', { 'dapr-api-token': '' }],
      ['wrong', { 'dapr-api-token': WRONG_TOKEN }],
      ['sent twice (same value)', { 'dapr-api-token': [TOKEN, TOKEN] }],
      ['sent twice (valid and wrong)', { 'dapr-api-token': [TOKEN, WRONG_TOKEN] }],
      ['the two values already joined', { 'dapr-api-token': `${TOKEN}, ${PREVIOUS_TOKEN}` }],
      ['a prefix', { 'dapr-api-token': TOKEN.slice(0, -1) }],
      ['with a suffix', { 'dapr-api-token': `${TOKEN}x` }],
      ['longer than 4096 characters', { 'dapr-api-token': 'a'.repeat(4097) }],
      ['latin1 (outside visible ASCII)', { 'dapr-api-token': `${TOKEN.slice(0, -1)}\u00e9` }],
      ['in Authorization: Bearer', { authorization: `Bearer ${TOKEN}` }],
      ['in a cookie', { cookie: `dapr-api-token=${TOKEN}` }],
      ['in a look-alike header', { 'x-dapr-api-token': TOKEN }],
    ])('rejects a token %s with 401 and the standard body', async (_case, headers) => {
      const outcome = await send(baseUrl, '/plain', { headers: headers as Record<string, string> });
      expect(outcome.status).toBe(401);
      expect(outcome.json).toEqual(UNAUTHORIZED_BODY);
    });

    it('never takes the token from the query string or the body', async () => {
      const inQuery = await send(baseUrl, `/plain?dapr-api-token=${TOKEN}`, { method: 'POST' });
      const inBody = await send(baseUrl, '/plain', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ 'dapr-api-token': TOKEN }),
      });
      expect([inQuery.status, inBody.status]).toEqual([401, 401]);
    });

    it('rejects control characters and a space inside the value (raw request)', async () => {
      const { port } = new URL(baseUrl);
      for (const value of [`${TOKEN.slice(0, 5)}\x01${TOKEN.slice(5)}`, `${TOKEN.slice(0, 5)} ${TOKEN.slice(5)}`]) {
        const head = Buffer.from(`GET /plain HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ndapr-api-token: ${value}\r\nConnection: close\r\n\r\n`, 'latin1');
        const status = await sendRaw(baseUrl, head);
        // Node's parser itself may refuse a control character with 400; it must never get through.
        expect([400, 401]).toContain(status);
      }
    });

    it('logs why it rejected, with the route pattern, and never the token', async () => {
      await send(baseUrl, '/plain', { headers: { 'dapr-api-token': WRONG_TOKEN } });
      await send(baseUrl, '/plain', {});
      await send(baseUrl, '/plain', { headers: { 'dapr-api-token': [TOKEN, TOKEN] } });
      const output = capturedOutput();
      expect(output).toMatch(/Rejected HTTP GET \/plain: token mismatch/);
      expect(output).toMatch(/Rejected HTTP GET \/plain: missing token/);
      expect(output).toMatch(/Rejected HTTP GET \/plain: malformed token/);
    });

    it('says which rule a malformed token broke, never the value', async () => {
      await send(baseUrl, '/plain', { headers: { 'dapr-api-token': [TOKEN, TOKEN] } });
      await send(baseUrl, '/plain', { headers: { 'dapr-api-token': `${TOKEN}x`.repeat(100) } });
      await send(baseUrl, '/plain', { headers: { 'dapr-api-token': `${TOKEN} ${TOKEN}` } });
      const output = capturedOutput();
      expect(output).toMatch(/malformed token: several values \(a second dapr-api-token header or metadata entry\)/);
      expect(output).toMatch(/malformed token: too long \(4400 characters, maxTokenLength is 4096\)/);
      expect(output).toMatch(/malformed token: characters outside visible ASCII/);
    });

    it('lets @DaprPublic() routes through without a token', async () => {
      expect((await send(baseUrl, '/plain/public')).status).toBe(200);
      expect((await send(baseUrl, '/public-class')).status).toBe(200);
    });

    it('method-level @DaprProtected() wins over class-level @DaprPublic()', async () => {
      expect((await send(baseUrl, '/public-class/protected')).status).toBe(401);
      expect((await send(baseUrl, '/public-class/protected', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    });

    it('method-level @DaprPublic() wins over class-level @DaprProtected()', async () => {
      expect((await send(baseUrl, '/protected-class/public')).status).toBe(200);
      expect((await send(baseUrl, '/protected-class')).status).toBe(401);
    });

    describe('the health probe daprd sends without a token', () => {
      it('GET and HEAD /healthz pass without a token', async () => {
        expect((await send(baseUrl, '/healthz')).json).toEqual({ status: 'ok' });
        expect((await send(baseUrl, '/healthz', { method: 'HEAD' })).status).toBe(200);
        expect((await send(baseUrl, '/healthz?probe=1')).status).toBe(200);
      });

      it('only the exact path and only GET/HEAD', async () => {
        expect((await send(baseUrl, '/healthz', { method: 'POST' })).status).toBe(401);
        expect((await send(baseUrl, '/custom-health')).status).toBe(401);
      });
    });
  });

  describe('without global: the guard applies where a decorator puts it', () => {
    let baseUrl: string;
    beforeAll(async () => {
      baseUrl = await start({ token: TOKEN });
    });

    it.each(['/use-guards', '/protected-class', '/protected-method', '/public-class/protected'])('%s is protected', async (path) => {
      expect((await send(baseUrl, path)).status).toBe(401);
      expect((await send(baseUrl, path, { headers: { 'dapr-api-token': WRONG_TOKEN } })).status).toBe(401);
      expect((await send(baseUrl, path, { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    });

    it.each(['/plain', '/protected-method/open', '/public-class'])('%s is not', async (path) => {
      expect((await send(baseUrl, path)).status).toBe(200);
    });
  });

  describe('health-check options', () => {
    it('healthCheckPath moves the exemption', async () => {
      const baseUrl = await start({ token: TOKEN, global: true, healthCheckPath: '/custom-health' });
      expect((await send(baseUrl, '/custom-health')).status).toBe(200);
      expect((await send(baseUrl, '/healthz')).status).toBe(401);
    });

    it('a catch-all route does not serve the health-check path without a token', async () => {
      const { app, baseUrl } = await startHttpApp(catchAllTestModule({ token: TOKEN }, platformName === 'Fastify' ? '*' : '*path'), platform);
      apps.push(app);
      expect((await send(baseUrl, '/healthz')).status).toBe(401);
      expect((await send(baseUrl, '/healthz', { headers: { 'dapr-api-token': TOKEN } })).json).toEqual({ route: 'catch-all' });
    });

    it('exemptTokenlessDaprCalls: false protects the health probe too', async () => {
      const baseUrl = await start({ token: TOKEN, global: true, exemptTokenlessDaprCalls: false });
      expect((await send(baseUrl, '/healthz')).status).toBe(401);
      expect((await send(baseUrl, '/healthz', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    });
  });

  describe('logRejections', () => {
    it('false keeps rejections out of the log', async () => {
      const baseUrl = await start({ token: TOKEN, global: true, logRejections: false });
      expect((await send(baseUrl, '/plain')).status).toBe(401);
      expect(capturedOutput()).not.toContain('Rejected HTTP');
    });
  });
});
