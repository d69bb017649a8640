import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import { resolveDaprAuthOptions } from '../options/resolve-dapr-auth-options.js';
import type { DaprJwtOptions } from './dapr-jwt.options.js';
import { resolveJwtOptions } from './resolve-jwt-options.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const pem = (key: { export(options: object): string | Buffer }, type: 'spki' | 'pkcs8') => key.export({ type, format: 'pem' }).toString();
const SECRET = randomBytes(32).toString('base64url'); // 43 bytes as text
const rsaPublic = pem(rsa.publicKey, 'spki');

function problem(jwt: unknown): string {
  try {
    resolveJwtOptions(jwt as DaprJwtOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(DaprAuthConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a DaprAuthConfigError');
}

describe('jwt options, checked at start-up', () => {
  it('accepts each key source with fitting algorithms', () => {
    expect(resolveJwtOptions({ secret: SECRET, algorithms: ['HS256'] }).keySource.kind).toBe('key');
    expect(resolveJwtOptions({ publicKey: rsaPublic, algorithms: ['RS256', 'PS256'] }).keySource.kind).toBe('key');
    expect(resolveJwtOptions({ publicKey: pem(ec256.publicKey, 'spki'), algorithms: ['ES256'] }).keySource.kind).toBe('key');
    expect(resolveJwtOptions({ publicKey: pem(ed.publicKey, 'spki'), algorithms: ['EdDSA'] }).keySource.kind).toBe('key');
    const jwk = { ...ec256.publicKey.export({ format: 'jwk' }), kid: 'k1' } as never;
    expect(resolveJwtOptions({ publicKey: jwk, algorithms: ['ES256'] }).keySource.kind).toBe('key');
    expect(resolveJwtOptions({ jwks: { keys: [jwk] }, algorithms: ['ES256'] }).keySource.kind).toBe('jwks');
    expect(resolveJwtOptions({ jwksUri: 'https://issuer.example/jwks.json', algorithms: ['RS256'] }).keySource).toMatchObject({
      kind: 'jwksUri',
      cacheMaxAge: 600000,
    });
  });

  it('reads clockTolerance and maxTokenAge as jose does, into seconds', () => {
    const resolve = (clockTolerance: number | string, maxTokenAge: number | string) => {
      const { clockTolerance: c, maxTokenAge: m } = resolveJwtOptions({ secret: SECRET, algorithms: ['HS256'], clockTolerance, maxTokenAge });
      return [c, m];
    };
    expect(resolve('30s', '1 year')).toEqual([30, 31_557_600]);
    expect(resolve(2.5, '2 days')).toEqual([2.5, 172_800]);
    expect(resolve('1.5h', '1w')).toEqual([5400, 604_800]);
    expect(resolve('5 Minutes', '+1d')).toEqual([300, 86_400]);
    expect(resolveJwtOptions({ secret: SECRET, algorithms: ['HS256'] }).clockTolerance).toBe(0);
  });

  it('accepts plain http: for a loopback JWKS, or with jwksAllowHttp', () => {
    for (const url of ['http://127.0.0.1:8080/jwks', 'http://localhost/jwks', 'http://[::1]:9000/jwks']) {
      expect(resolveJwtOptions({ jwksUri: url, algorithms: ['RS256'] }).keySource.kind).toBe('jwksUri');
    }
    expect(resolveJwtOptions({ jwksUri: 'http://issuer.internal/jwks', algorithms: ['RS256'], jwksAllowHttp: true }).keySource.kind).toBe('jwksUri');
  });

  it('accepts a local JWKS that mixes key types when each key fits one allowed algorithm', () => {
    const keys = [
      { ...ec256.publicKey.export({ format: 'jwk' }), kid: 'ec' },
      { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa' },
    ] as never;
    expect(resolveJwtOptions({ jwks: { keys }, algorithms: ['ES256', 'RS256'] }).keySource.kind).toBe('jwks');
  });

  it('requires exp by default (jose does not), and iat with maxTokenAge', () => {
    expect(resolveJwtOptions({ secret: SECRET, algorithms: ['HS256'] }).requiredClaims).toEqual(['exp']);
    expect(resolveJwtOptions({ secret: SECRET, algorithms: ['HS256'], maxTokenAge: '1d' }).requiredClaims).toEqual(['exp', 'iat']);
  });

  it.each<[string, unknown, RegExp]>([
    ['no algorithms', { secret: SECRET }, /`algorithms` is required/],
    ['alg none', { secret: SECRET, algorithms: ['none'] }, /"none" \(unsigned tokens\), which is not one of/],
    ['an unknown algorithm', { secret: SECRET, algorithms: ['HS1'] }, /a value \(not shown: it could be a secret typed there\), which is not one of/],
    ['no key source', { algorithms: ['RS256'] }, /give one key source/],
    ['two key sources', { secret: SECRET, publicKey: rsaPublic, algorithms: ['HS256'] }, /`secret` and `publicKey` each give the keys; keep one/],
    ['a short HMAC secret', { secret: 'x'.repeat(31), algorithms: ['HS256'] }, /31 bytes, shorter than the 32 bytes HS256 needs \(RFC 7518 §3\.2\)/],
    ['a secret too short for HS512', { secret: 'x'.repeat(48), algorithms: ['HS256', 'HS512'] }, /48 bytes, shorter than the 64 bytes HS512 needs/],
    ['an asymmetric algorithm with a secret', { secret: SECRET, algorithms: ['RS256'] }, /RS256 is not an HMAC algorithm, but the key is a `secret`/],
    [
      'algorithm confusion (HS with a public key)',
      { publicKey: rsaPublic, algorithms: ['RS256', 'HS256'] },
      /HS256 is an HMAC algorithm, but `publicKey` is a public key: .*algorithm-confusion/,
    ],
    ['an RSA key for ES256', { publicKey: rsaPublic, algorithms: ['ES256'] }, /ES256 needs a ec prime256v1 key, but `publicKey` is rsa/],
    [
      'a P-256 key for ES384',
      { publicKey: pem(ec256.publicKey, 'spki'), algorithms: ['ES384'] },
      /ES384 needs a ec secp384r1 key, but `publicKey` is ec prime256v1/,
    ],
    ['a private key as publicKey', { publicKey: pem(rsa.privateKey, 'pkcs8'), algorithms: ['RS256'] }, /must be a PUBLIC key/],
    ['garbage as publicKey', { publicKey: 'not a key', algorithms: ['RS256'] }, /is not a PEM public key/],
    ['a private JWK in jwks', { jwks: { keys: [ec256.privateKey.export({ format: 'jwk' })] }, algorithms: ['ES256'] }, /holds a private key/],
    ['an HMAC algorithm with jwksUri', { jwksUri: 'https://x.example/jwks', algorithms: ['HS256'] }, /HS256 is an HMAC algorithm; a JWKS holds public keys/],
    ['a jwksUri that is not a URL', { jwksUri: 'jwks.json', algorithms: ['RS256'] }, /`jwksUri` is not a URL/],
    ['jwks options without jwksUri', { secret: SECRET, algorithms: ['HS256'], jwksTimeout: 100 }, /`jwksTimeout` only applies with `jwksUri`/],
    ['an unknown option', { secret: SECRET, algorithms: ['HS256'], issuers: ['x'] }, /unknown option\(s\) `issuers`/],
    [
      'a clockTolerance jose cannot read',
      { secret: SECRET, algorithms: ['HS256'], clockTolerance: 'abc' },
      /`jwt\.clockTolerance` must be 0 or more seconds, or a time span such as '30s'.*got a string/,
    ],
    ['a negative clockTolerance', { secret: SECRET, algorithms: ['HS256'], clockTolerance: -5 }, /`jwt\.clockTolerance`.*got number -5/],
    ['a maxTokenAge in the past', { secret: SECRET, algorithms: ['HS256'], maxTokenAge: '5m ago' }, /`jwt\.maxTokenAge`/],
    ['a maxTokenAge as an object', { secret: SECRET, algorithms: ['HS256'], maxTokenAge: { days: 1 } }, /`jwt\.maxTokenAge`.*got an object/],
    [
      'a plain-http jwksUri to another host',
      { jwksUri: 'http://issuer.example/jwks.json', algorithms: ['RS256'] },
      /plain http: URL: anyone on the network path could replace the keys.*https:.*`jwksAllowHttp: true`/,
    ],
    [
      'jwksAllowHttp as a string',
      { jwksUri: 'http://issuer.example/jwks.json', algorithms: ['RS256'], jwksAllowHttp: 'true' },
      /`jwt\.jwksAllowHttp` must be true or false, got a string/,
    ],
    [
      'a jwksCacheMaxAge past what a timer can wait',
      { jwksUri: 'https://x.example/jwks', algorithms: ['RS256'], jwksCacheMaxAge: 2 ** 31 },
      /`jwt\.jwksCacheMaxAge` must be a number of milliseconds from 0 to 2147483647/,
    ],
    [
      'a JWK that fits no listed algorithm',
      { jwks: { keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r' }] }, algorithms: ['ES256'] },
      /the JWK "r" fits none of `algorithms` \(ES256\)/,
    ],
    [
      'a JWK whose alg is not listed',
      { jwks: { keys: [{ ...ec256.publicKey.export({ format: 'jwk' }), kid: 'e', alg: 'ES256' }] }, algorithms: ['RS256'] },
      /the JWK "e" is for "ES256", which is not in `algorithms`/,
    ],
    ['an issuer that is not a string', { secret: SECRET, algorithms: ['HS256'], issuer: 42 }, /`jwt\.issuer` must be an issuer \(string\)/],
  ])('refuses %s, naming the problem', (_case, jwt, message) => {
    const text = problem(jwt);
    expect(text).toMatch(/^DaprAuthModule: option `jwt(`: |\.\w+` must be )/);
    expect(text).toMatch(message);
    expect(text).not.toContain(SECRET);
    expect(text).not.toMatch(/MII|BEGIN (RSA |EC )?PRIVATE/); // no key material
  });

  it('with jwt, APP_API_TOKEN is not required, and a named token source is checked as well', () => {
    const jwtOnly = resolveDaprAuthOptions({ jwt: { secret: SECRET, algorithms: ['HS256'] } }, {});
    expect(jwtOnly.tokenSource).toBeUndefined();
    expect(jwtOnly.jwt).toBeDefined();
    const both = resolveDaprAuthOptions(
      { tokenEnvVar: 'APP_API_TOKEN', jwt: { secret: SECRET, algorithms: ['HS256'] } },
      { APP_API_TOKEN: 'a-token-of-enough-length-1234' },
    );
    expect(both.tokenSource?.getTokens()).toEqual(['a-token-of-enough-length-1234']);
  });
});
