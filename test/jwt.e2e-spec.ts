import { jest } from '@jest/globals';
import type { INestApplication, INestMicroservice } from '@nestjs/common';
import { DAPR_JWT_VERIFIER, type DaprAuthModuleOptions } from 'nestjs-dapr-auth';
import { callUnary, grpcClient, tokenMetadata, grpc } from './support/grpc.js';
import { send, startHttpApp, HTTP_PLATFORMS } from './support/http.js';
import { startGrpcModule } from './support/grpc-test-app.js';
import { AUDIENCE, ISSUER, jwtTestModule, signingKey, type SigningKey, unsignedToken } from './support/jwt.js';
import { capturedOutput } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';

/**
 * JWT mode over HTTP and gRPC, for HS256, RS256, ES256 and EdDSA: a valid token passes and its
 * claims reach the handler; every kind of bad token is a 401 / 16 with the same generic answer,
 * and the reason (never the token) is logged.
 */
const [, express] = HTTP_PLATFORMS[0];
const now = () => Math.floor(Date.now() / 1000);

async function startBoth(options: DaprAuthModuleOptions) {
  const { app: http, baseUrl } = await startHttpApp(jwtTestModule(options), express);
  const { app: rpc, address } = await startGrpcModule(jwtTestModule(options));
  const client = grpcClient('AppCallback', address);
  return {
    http: http as INestApplication,
    rpc: rpc as INestMicroservice,
    httpStatus: async (token: string | undefined, path = '/claims') => send(baseUrl, path, { headers: token === undefined ? {} : { 'dapr-api-token': token } }),
    grpcCall: (token: string) => callUnary(client, 'OnInvoke', { method: 'invoke' }, tokenMetadata(token)),
    close: async () => {
      client.close();
      await rpc.close();
      await http.close();
    },
  };
}

describe.each(['HS256', 'RS256', 'ES256', 'EdDSA'] as const)('jwt with %s', (alg) => {
  let key: SigningKey;
  let other: SigningKey;
  let running: Awaited<ReturnType<typeof startBoth>>;

  beforeAll(async () => {
    key = await signingKey(alg);
    other = await signingKey(alg, 'other-key');
    running = await startBoth({ jwt: { ...key.keySource, algorithms: [alg], issuer: ISSUER, audience: AUDIENCE } });
  });
  afterAll(() => running.close());

  it('accepts a valid token over HTTP and gRPC, and hands the verified claims to the handler', async () => {
    const token = await key.sign({ role: 'publisher' });
    const http = await running.httpStatus(token);
    expect(http.status).toBe(200);
    expect(http.json).toMatchObject({ claims: { sub: 'checkout', iss: ISSUER, aud: AUDIENCE, role: 'publisher' } });
    expect((await running.httpStatus(token, '/claims/sub')).json).toEqual({ sub: 'checkout' });
    const rpc = await running.grpcCall(token);
    expect(rpc.code).toBe(grpc.status.OK);
    expect(Buffer.from((rpc.response as { data: { value: Buffer } }).data.value).toString()).toBe('invoke sub=checkout');
  });

  const rejections: Array<[string, () => Promise<string>, RegExp]> = [
    ['alg: none', async () => unsignedToken(), /its algorithm is not in `jwt.algorithms`|not a well-formed JWT/],
    ['a signature by another key', async () => other.sign(), /bad signature|no configured key matches/],
    ['an expired token', async () => key.sign({ iat: now() - 600, exp: now() - 60 }), /expired/],
    ['a token not valid yet', async () => key.sign({ nbf: now() + 600 }), /not valid yet/],
    ['the wrong issuer', async () => key.sign({ iss: 'https://evil.example' }), /wrong issuer/],
    ['the wrong audience', async () => key.sign({ aud: 'payments' }), /wrong audience/],
    ['no exp claim', async () => key.sign({ exp: undefined }), /required claim is missing/],
    ['a malformed token', async () => 'not-base64url!.header.sig', /not a well-formed JWT/],
    ['an opaque token', async () => TOKEN, /not a well-formed JWT/],
  ];
  if (alg !== 'HS256') {
    // A token that brings its own key (jwk / jku headers): only configured keys are ever used.
    rejections.push([
      'a token signed by another key that carries that key in its jwk and jku headers',
      async () => other.sign({}, { jwk: { ...other.publicJwk, kid: undefined, alg: undefined }, jku: 'https://evil.example/jwks.json' }),
      /bad signature|no configured key matches/,
    ]);
    // Algorithm confusion: an HS256 token whose HMAC key is the public key itself.
    rejections.push([
      'an HS256 token signed with the public key as HMAC secret',
      async () => {
        const { SignJWT } = await import('jose');
        const pem = new TextEncoder().encode((key.keySource as { publicKey: string }).publicKey);
        return new SignJWT({ iss: ISSUER, aud: AUDIENCE, exp: now() + 300 }).setProtectedHeader({ alg: 'HS256' }).sign(pem);
      },
      /its algorithm is not in `jwt.algorithms`/,
    ]);
  }

  it.each(rejections)('rejects %s with 401 / 16 and the generic answer, logging the reason', async (_case, make, reason) => {
    const token = await make();
    const http = await running.httpStatus(token);
    expect(http.status).toBe(401);
    expect(http.json).toEqual({ message: 'Unauthorized', statusCode: 401 });
    const rpc = await running.grpcCall(token);
    expect(rpc).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: 'Unauthorized' });
    expect(capturedOutput()).toMatch(reason);
  });
});

describe('jwt: the verified-token cache', () => {
  let key: SigningKey;
  let running: Awaited<ReturnType<typeof startBoth>>;

  beforeAll(async () => {
    key = await signingKey('ES256');
    running = await startBoth({ jwt: { ...key.keySource, algorithms: ['ES256'] } });
  });
  afterAll(() => running.close());

  it('verifies a token once and serves the next requests from the cache', async () => {
    const verifier = running.http.get(DAPR_JWT_VERIFIER);
    const verify = jest.spyOn(verifier, 'verify');
    const token = await key.sign();
    for (let i = 0; i < 5; i++) expect((await running.httpStatus(token)).status).toBe(200);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('never serves a token past its exp', async () => {
    const token = await key.sign({ exp: now() + 2 });
    expect((await running.httpStatus(token)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await running.httpStatus(token)).status).toBe(401);
    expect(capturedOutput()).toMatch(/JWT rejected: expired/);
  });
});

describe('jwt together with a token source', () => {
  let key: SigningKey;
  let running: Awaited<ReturnType<typeof startBoth>>;
  let jwt: string;

  beforeAll(async () => {
    key = await signingKey('HS256');
    jwt = await key.sign({ exp: now() + 3600 });
    running = await startBoth({ token: jwt, jwt: { ...key.keySource, algorithms: ['HS256'] } });
  });
  afterAll(() => running.close());

  it('needs both checks to pass: the configured token AND a valid JWT', async () => {
    expect((await running.httpStatus(jwt)).status).toBe(200);
    const anotherValidJwt = await key.sign();
    expect((await running.httpStatus(anotherValidJwt)).status).toBe(401);
    expect(capturedOutput()).toMatch(/token mismatch/);
  });
});
