import fc from 'fast-check';
import { SignJWT } from 'jose';
import { resolveJwtOptions } from './resolve-jwt-options.js';
import { failureOf, JwtVerifier } from './jwt-verifier.js';

/**
 * The verified-token cache must never accept what a fresh verification would refuse: for
 * generated time claims, options and clock times (the lookup may even come before the
 * verification), a cache hit at `t2` implies that a fresh verification at `t2` passes.
 */
const SECRET = 'a-secret-of-at-least-thirty-two-bytes-for-hs256!';
const KEY = new TextEncoder().encode(SECRET);
const BASE = 1_800_000_000; // seconds; all claims and clocks are around it
const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
const log = { warn: () => undefined, log: () => undefined };

const spans = fc.constantFrom<number | string | undefined>(undefined, 0, 5, 30, 2.5, '30s', '2 minutes', '1h', '1 day', '1w', '1y', '2 years');
const offset = fc.integer({ min: -3 * 86400, max: 3 * 86400 });
const farOffset = fc.oneof(offset, fc.integer({ min: -3 * 31_557_600, max: 3 * 31_557_600 }));

describe('JwtVerifier: cached and fresh decisions agree', () => {
  it('a cache hit at any time implies a fresh verification then passes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          iat: fc.option(farOffset, { nil: undefined }),
          nbf: fc.option(offset, { nil: undefined }),
          exp: fc.option(farOffset, { nil: undefined }),
          clockTolerance: spans,
          maxTokenAge: spans,
          verifiedAt: farOffset,
          lookedUpAt: farOffset,
          lookupMs: fc.integer({ min: 0, max: 999 }),
        }),
        async (c) => {
          const claims = Object.fromEntries(
            (['iat', 'nbf', 'exp'] as const).filter((name) => c[name] !== undefined).map((name) => [name, BASE + (c[name] as number)]),
          );
          const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(KEY);
          const jwt = { secret: SECRET, algorithms: ['HS256'], requiredClaims: [], clockTolerance: c.clockTolerance, maxTokenAge: c.maxTokenAge };
          const cachedVerifier = await JwtVerifier.create(resolveJwtOptions(jwt), log);
          const freshVerifier = await JwtVerifier.create(resolveJwtOptions({ ...jwt, verifiedCacheSize: 0 }), log);
          const t1 = (BASE + c.verifiedAt) * 1000;
          const t2 = (BASE + c.lookedUpAt) * 1000 + c.lookupMs;
          const first = await cachedVerifier.verify(token, t1);
          // Accepted at t1, so cached at t1 too (the cache does not forget early).
          if (first.ok && c.exp !== undefined) expect(cachedVerifier.cached(token, t1)).toBeDefined();
          const hit = cachedVerifier.cached(token, t2);
          if (!first.ok) expect(hit).toBeUndefined();
          if (hit !== undefined) expect((await freshVerifier.verify(token, t2)).ok).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("maxTokenAge '1y' ends a cached token's acceptance a year after iat, whatever its exp", async () => {
    const options = resolveJwtOptions({ secret: SECRET, algorithms: ['HS256'], maxTokenAge: '1y' });
    const verifier = await JwtVerifier.create(options, log);
    const token = await new SignJWT({ iat: BASE, exp: BASE + 10 * 31_557_600 }).setProtectedHeader({ alg: 'HS256' }).sign(KEY);
    expect((await verifier.verify(token, (BASE + 60) * 1000)).ok).toBe(true);
    expect(verifier.cached(token, (BASE + 31_557_600) * 1000)).toBeDefined();
    expect(verifier.cached(token, (BASE + 31_557_601) * 1000)).toBeUndefined();
    expect(await verifier.verify(token, (BASE + 31_557_601) * 1000)).toEqual({ ok: false, failure: 'too-old' });
  });

  it('reasons for iat failures: too old, and issued in the future', async () => {
    const verifier = await JwtVerifier.create(resolveJwtOptions({ secret: SECRET, algorithms: ['HS256'], maxTokenAge: 60 }), log);
    const token = await new SignJWT({ iat: BASE, exp: BASE + 3600 }).setProtectedHeader({ alg: 'HS256' }).sign(KEY);
    expect(await verifier.verify(token, (BASE + 120) * 1000)).toEqual({ ok: false, failure: 'too-old' });
    expect(await verifier.verify(token, (BASE - 120) * 1000)).toEqual({ ok: false, failure: 'issued-in-future' });
    expect(failureOf(Object.assign(new Error('x'), { code: 'ERR_JWT_EXPIRED', claim: 'exp' }))).toBe('expired');
  });
});

describe('JwtVerifier with a local JWKS of several key types', () => {
  it("accepts each key's own algorithm, and refuses a token whose alg does not fit the key its kid picks", async () => {
    const { generateKeyPair, exportJWK } = await import('jose');
    const ec = await generateKeyPair('ES256', { extractable: true });
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const keys = [
      { ...(await exportJWK(ec.publicKey)), kid: 'ec' },
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa' },
    ];
    const verifier = await JwtVerifier.create(resolveJwtOptions({ jwks: { keys: keys as never }, algorithms: ['ES256', 'RS256'] }), log);
    const now = Math.floor(Date.now() / 1000);
    const sign = (alg: string, kid: string, key: Parameters<SignJWT['sign']>[0]) => new SignJWT({ exp: now + 60 }).setProtectedHeader({ alg, kid }).sign(key);
    expect((await verifier.verify(await sign('ES256', 'ec', ec.privateKey))).ok).toBe(true);
    expect((await verifier.verify(await sign('RS256', 'rsa', rsa.privateKey))).ok).toBe(true);
    const crossed = await verifier.verify(await sign('RS256', 'ec', rsa.privateKey));
    expect(crossed).toEqual({ ok: false, failure: 'unknown-key' });
  });
});
