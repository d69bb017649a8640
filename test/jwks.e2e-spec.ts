import { createServer, type Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { JWK } from 'jose';
import { HTTP_PLATFORMS, send, startHttpApp } from './support/http.js';
import { jwtTestModule, signingKey, type SigningKey } from './support/jwt.js';
import { capturedOutput } from './support/secrets.js';

/**
 * A remote JWKS served by a real local HTTP server that rotates its keys, goes down and comes back:
 * keys are refetched on an unknown kid, the keys already fetched keep working for
 * `jwksStaleTolerance` while the endpoint is down, then nothing is accepted, and the module
 * recovers when the endpoint does. A hanging endpoint is cut off by `jwksTimeout`.
 */
const [, express] = HTTP_PLATFORMS[0];
const CACHE_MAX_AGE = 300;
const STALE_TOLERANCE = 1200;
const COOLDOWN = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The JWKS endpoint: serves `keys`, or answers 503 while `down`, or never answers while `hanging`. */
class JwksServer {
  keys: JWK[] = [];
  down = false;
  hanging = false;
  fetches = 0;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((_request, res) => {
      this.fetches++;
      if (this.hanging) return; // never answers
      if (this.down) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('jwt with a remote JWKS (jwksUri)', () => {
  const jwks = new JwksServer();
  let first: SigningKey;
  let second: SigningKey;
  let app: INestApplication;
  let baseUrl: string;
  // A new token per call, so that the verified-token cache never answers for the JWKS.
  const status = async (key: SigningKey) =>
    (await send(baseUrl, '/claims', { headers: { 'dapr-api-token': await key.sign({ jti: `${Math.random()}` }) } })).status;

  beforeAll(async () => {
    await jwks.start();
    first = await signingKey('RS256', 'key-1');
    second = await signingKey('RS256', 'key-2');
    jwks.keys = [first.publicJwk!];
    ({ app, baseUrl } = await startHttpApp(
      jwtTestModule({
        jwt: {
          jwksUri: jwks.url,
          algorithms: ['RS256'],
          jwksCacheMaxAge: CACHE_MAX_AGE,
          jwksStaleTolerance: STALE_TOLERANCE,
          jwksCooldown: COOLDOWN,
          jwksTimeout: 500,
        },
      }),
      express,
    ));
  });
  afterAll(async () => {
    await app.close();
    await jwks.stop();
  });

  it('verifies with the fetched keys, and refetches on an unknown kid after a rotation', async () => {
    expect(await status(first)).toBe(200);
    expect(await status(second)).toBe(401); // key-2 is not published yet
    jwks.keys = [first.publicJwk!, second.publicJwk!];
    await sleep(COOLDOWN + 20);
    const fetches = jwks.fetches;
    expect(await status(second)).toBe(200); // unknown kid -> refetch -> found
    expect(jwks.fetches).toBe(fetches + 1);
  });

  it('keeps using the fetched keys while the endpoint is down, for jwksStaleTolerance, then rejects, then recovers', async () => {
    jwks.down = true;
    await sleep(CACHE_MAX_AGE + 50); // the keys are now stale: refetches fail in the background
    expect(await status(first)).toBe(200);
    expect(await status(second)).toBe(200);
    await sleep(STALE_TOLERANCE + 100); // past cacheMaxAge + staleTolerance
    expect(await status(first)).toBe(401);
    expect(capturedOutput()).toMatch(/JWT rejected: the JWKS endpoint is unavailable/);
    expect(capturedOutput()).toMatch(/JWKS http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json: HTTP 503; still using the keys fetched/);
    jwks.down = false;
    await sleep(COOLDOWN + 20);
    expect(await status(first)).toBe(200);
  });

  it('cuts a hanging endpoint off after jwksTimeout, without hanging the request', async () => {
    jwks.hanging = true;
    await sleep(CACHE_MAX_AGE + STALE_TOLERANCE + 100);
    const started = Date.now();
    expect(await status(first)).toBe(401);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(capturedOutput()).toMatch(/no answer within 500 ms/);
    jwks.hanging = false;
  });
});

describe('jwt with a JWKS endpoint that is down from the start', () => {
  it('never accepts a token: no key is known', async () => {
    const jwks = new JwksServer();
    await jwks.start();
    jwks.down = true;
    const key = await signingKey('ES256', 'k');
    jwks.keys = [key.publicJwk!];
    const { app, baseUrl } = await startHttpApp(jwtTestModule({ jwt: { jwksUri: jwks.url, algorithms: ['ES256'], jwksCooldown: 0 } }), express);
    try {
      expect((await send(baseUrl, '/claims', { headers: { 'dapr-api-token': await key.sign() } })).status).toBe(401);
      jwks.down = false;
      expect((await send(baseUrl, '/claims', { headers: { 'dapr-api-token': await key.sign() } })).status).toBe(200);
    } finally {
      await app.close();
      await jwks.stop();
    }
  });
});

describe('jwt with a remote JWKS that drops a key', () => {
  it('a token verified (and cached) with the dropped key is refused once the new key set is fetched', async () => {
    const jwks = new JwksServer();
    await jwks.start();
    const dropped = await signingKey('ES256', 'old');
    const kept = await signingKey('ES256', 'new');
    jwks.keys = [dropped.publicJwk!, kept.publicJwk!];
    const { app, baseUrl } = await startHttpApp(
      jwtTestModule({ jwt: { jwksUri: jwks.url, algorithms: ['ES256'], jwksCacheMaxAge: CACHE_MAX_AGE, jwksCooldown: COOLDOWN } }),
      express,
    );
    const call = async (token: string) => (await send(baseUrl, '/claims', { headers: { 'dapr-api-token': token } })).status;
    try {
      const oldToken = await dropped.sign();
      const newToken = await kept.sign();
      expect([await call(oldToken), await call(oldToken), await call(newToken)]).toEqual([200, 200, 200]);
      jwks.keys = [kept.publicJwk!];
      await sleep(CACHE_MAX_AGE + 50);
      await call(newToken); // stale keys: this request starts the background refetch
      await sleep(200);
      expect(await call(oldToken)).toBe(401);
      expect(await call(newToken)).toBe(200);
    } finally {
      await app.close();
      await jwks.stop();
    }
  });
});

describe('jwt with a remote JWKS: a cached acceptance ends with the keys (F4)', () => {
  const jwks = new JwksServer();
  let app: INestApplication;
  let baseUrl: string;

  afterAll(async () => {
    await app.close();
    await jwks.stop();
  });

  it('a token verified before the JWKS went down is refused, like a fresh one, once the keys are past jwksStaleTolerance', async () => {
    await jwks.start();
    const key = await signingKey('RS256', 'key-1');
    jwks.keys = [key.publicJwk!];
    ({ app, baseUrl } = await startHttpApp(
      jwtTestModule({
        jwt: { jwksUri: jwks.url, algorithms: ['RS256'], jwksCacheMaxAge: CACHE_MAX_AGE, jwksStaleTolerance: STALE_TOLERANCE, jwksCooldown: COOLDOWN },
      }),
      express,
    ));
    const token = await key.sign({ jti: 'verified-once' }); // exp 10 minutes away: the cache would keep it that long
    const status = async () => (await send(baseUrl, '/claims', { headers: { 'dapr-api-token': token } })).status;
    expect(await status()).toBe(200); // verified, now cached
    jwks.down = true;
    await sleep(CACHE_MAX_AGE + 50);
    expect(await status()).toBe(200); // stale keys are still usable
    await sleep(STALE_TOLERANCE + 100);
    expect(await status()).toBe(401); // no usable keys: a fresh verification would refuse, so the cache does too
    jwks.down = false;
    await sleep(COOLDOWN + 20);
    expect(await status()).toBe(200);
  });
});

describe('jwt with a remote JWKS that redirects (F5)', () => {
  let redirector: Server;
  const keys = new JwksServer();
  let location = '';
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    await keys.start();
    redirector = createServer((_request, res) => res.writeHead(302, { location }).end());
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    await app?.close();
  });
  afterAll(async () => {
    await keys.stop();
    await new Promise((resolve) => redirector.close(resolve));
  });

  async function start(): Promise<SigningKey> {
    const key = await signingKey('RS256', 'key-1');
    keys.keys = [key.publicJwk!];
    const uri = `http://127.0.0.1:${(redirector.address() as { port: number }).port}/jwks.json`;
    ({ app, baseUrl } = await startHttpApp(jwtTestModule({ jwt: { jwksUri: uri, algorithms: ['RS256'], jwksCooldown: 0 } }), express));
    return key;
  }

  it('is not followed to plain http on a host the jwksUri rule refuses: no keys from there, tokens refused', async () => {
    location = 'http://keys.example.invalid:8080/jwks.json';
    const key = await start();
    const before = capturedOutput().length;
    expect((await send(baseUrl, '/claims', { headers: { 'dapr-api-token': await key.sign({}) } })).status).toBe(401);
    expect(capturedOutput().slice(before)).toMatch(/HTTP 302 redirect to http:\/\/keys\.example\.invalid:8080 refused \(the jwksUri rule/);
  });

  it('is followed to a URL the rule allows (here another loopback http: URL)', async () => {
    location = keys.url;
    const key = await start();
    expect((await send(baseUrl, '/claims', { headers: { 'dapr-api-token': await key.sign({}) } })).status).toBe(200);
  });
});
