import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { daprHeaders, setDaprMetadata } from 'nestjs-dapr-auth/testing';
import { callStream, callUnary, grpc, grpcClient } from './support/grpc.js';
import { startGrpcApp } from './support/grpc-test-app.js';
import { HTTP_PLATFORMS, send, startHttpApp, testLogger } from './support/http.js';
import { httpTestModuleWith } from './support/http-test-app.js';
import { capturedOutput, findLeak, registerSecret } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';
import { resolveDaprAuthOptions } from '../libs/dapr-auth/src/options/resolve-dapr-auth-options.js';

/**
 * Option `tokenHeader`: the token read from another header / metadata key, for a daprd that sends
 * it there (proposed upstream, dapr/dapr#7147 and #10239; no released daprd does yet). Every
 * transport reads it; `dapr-api-token` then counts for nothing; the log names it.
 */
const HEADER = 'x-app-token';

describe.each(HTTP_PLATFORMS)('tokenHeader over HTTP on %s', (_name, platform) => {
  let app: INestApplication;
  let baseUrl: string;
  beforeAll(async () => {
    ({ app, baseUrl } = await startHttpApp(httpTestModuleWith({ token: TOKEN, global: true, tokenHeader: HEADER }), platform));
  });
  afterAll(() => app.close());

  it('reads the token from that header only', async () => {
    expect((await send(baseUrl, '/plain', { headers: daprHeaders({ token: TOKEN, tokenHeader: HEADER }) })).status).toBe(200);
    expect((await send(baseUrl, '/plain', { headers: { 'X-App-Token': TOKEN } })).status).toBe(200);
    expect((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(401);
    expect(capturedOutput()).toMatch(/missing token \(no x-app-token header or metadata\)/);
  });

  it('refuses the token sent twice, and the reason names that header', async () => {
    expect((await send(baseUrl, '/plain', { headers: { [HEADER]: [TOKEN, TOKEN] } })).status).toBe(401);
    expect(capturedOutput()).toMatch(/malformed token: several values \(a second x-app-token header or metadata entry\)/);
    expect(capturedOutput()).not.toMatch(/dapr-api-token/);
  });
});

describe('tokenHeader over gRPC', () => {
  let close: () => Promise<void>;
  let callback: any;
  let streaming: any;
  beforeAll(async () => {
    const { app, address } = await startGrpcApp({ token: TOKEN, tokenHeader: HEADER });
    callback = grpcClient('AppCallback', address);
    streaming = grpcClient('Streaming', address);
    close = async () => {
      callback.close();
      streaming.close();
      await app.close();
    };
  });
  afterAll(() => close());

  it('unary and @GrpcStreamCall read that metadata key only', async () => {
    const metadata = (key: string) => {
      const result = new grpc.Metadata();
      result.set(key, TOKEN);
      return result;
    };
    expect((await callUnary(callback, 'OnInvoke', { method: 'm' }, setDaprMetadata(new grpc.Metadata(), { token: TOKEN, tokenHeader: HEADER }))).code).toBe(0);
    expect((await callUnary(callback, 'OnInvoke', { method: 'm' }, metadata('dapr-api-token'))).code).toBe(16);
    expect((await callStream(streaming, 'DuplexCall', metadata(HEADER), { send: [{ text: 'a' }] })).code).toBe(0);
    expect((await callStream(streaming, 'DuplexCall', metadata('dapr-api-token'), { send: [{ text: 'a' }] })).code).toBe(16);
  });

  it('refuses the token sent twice, and the reason names that metadata key', async () => {
    const twice = new grpc.Metadata();
    twice.add(HEADER, TOKEN);
    twice.add(HEADER, TOKEN);
    expect((await callUnary(callback, 'OnInvoke', { method: 'm' }, twice)).code).toBe(16);
    expect(capturedOutput()).toMatch(/malformed token: several values \(a second x-app-token header or metadata entry\)/);
    expect(capturedOutput()).not.toMatch(/dapr-api-token/);
  });
});

/**
 * Names another layer gives a meaning to (options/token-header.ts has the whole list, with why).
 * Node keeps only the FIRST value of the first group: with one of them as tokenHeader, a request
 * carrying the token and a second value was let through (200), since the guard sees several
 * values only when Node joins them as "a, b".
 */
const REFUSED_HEADERS: ReadonlyArray<[why: string, names: readonly string[]]> = [
  [
    'Node keeps only the first value',
    [
      'age',
      'authorization',
      'content-length',
      'content-type',
      'etag',
      'expires',
      'from',
      'host',
      'if-modified-since',
      'if-unmodified-since',
      'last-modified',
      'location',
      'max-forwards',
      'proxy-authorization',
      'referer',
      'retry-after',
      'server',
      'user-agent',
    ],
  ],
  ["Node's HTTP/2 keeps one value", ['date', 'dnt', 'tk', 'upgrade-insecure-requests', 'x-content-type-options']],
  ['Node joins its own way', ['cookie', 'set-cookie']],
  ['hop-by-hop', ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings']],
  [
    'HTTP',
    [
      'expect',
      'origin',
      'range',
      'cache-control',
      'accept',
      'accept-encoding',
      'content-encoding',
      'if-match',
      'sec-fetch-site',
      'access-control-request-method',
    ],
  ],
  ['proxies', ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'x-envoy-original-path']],
  ['gRPC', ['grpc-timeout', 'grpc-token', 'token-bin']],
  ['tracing', ['traceparent', 'tracestate', 'baggage', 'b3', 'x-b3-traceid']],
  ['Dapr', ['dapr-caller-app-id', 'dapr-caller-namespace', 'dapr-callee-app-id', 'dapr-app-id']],
  ['Node inherits it', ['constructor']],
];

describe('tokenHeader is checked at start-up', () => {
  /** The error a real NestFactory.create fails with (undefined: the app started). */
  async function startUpError(tokenHeader: unknown): Promise<Error | undefined> {
    const starting = NestFactory.create(httpTestModuleWith({ token: TOKEN, global: true, tokenHeader: tokenHeader as string }), {
      logger: testLogger(),
      abortOnError: false,
    });
    return starting.then(
      async (app) => {
        await app.close();
        return undefined;
      },
      (caught: Error) => caught,
    );
  }

  it.each(REFUSED_HEADERS.flatMap(([why, names]) => names.map((name) => [name, why])))(
    'refuses %s (%s): the app does not start, and the message names the fix',
    async (name) => {
      const error = await startUpError(name);
      expect(error?.name).toBe('DaprAuthConfigError');
      expect(error?.message).toMatch(/^DaprAuthModule: option `tokenHeader` must be a header name nothing else gives a meaning to, got /);
      expect(error?.message).toMatch(/Use a name of your own, e\.g\. x-app-token, the same one your daprd sends the token in/);
    },
  );

  it('allows dapr-api-token (the default) and names of its own', async () => {
    for (const name of ['dapr-api-token', HEADER, 'x-dapr-app-token', 'app-token', 'my.token_header']) {
      expect(resolveDaprAuthOptions({ token: TOKEN, tokenHeader: name }, {}).tokenHeader).toBe(name);
    }
    expect(await startUpError(HEADER)).toBeUndefined();
  });

  it.each(['Dapr-Api-Token', 'grpc-token', 'token-bin', 'has space', '', ':authority', 'x'.repeat(65), 42])('refuses %p', (value) => {
    expect(() => resolveDaprAuthOptions({ token: TOKEN, tokenHeader: value as string }, {})).toThrow(/option `tokenHeader` must be a header name/);
  });

  it('refuses a name shaped like a token (a hex token is a valid header name, and the name is logged), without echoing it', () => {
    const hex = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
    registerSecret(hex);
    expect(() => resolveDaprAuthOptions({ token: TOKEN, tokenHeader: hex }, {})).toThrow(/has a part of more than 20 characters between '-' \(not shown/);
  });

  it('never echoes an odd value: only the listed name or prefix it matched', async () => {
    const pasted = 'Tk9_pasted-Token-In-Place-Of-A-Header-0123';
    const prefixed = 'dapr-tk9pasted0123456789abcdefghijklmnopq';
    registerSecret(pasted, prefixed);
    for (const value of [pasted, prefixed, `${'a'.repeat(64)}-long-enough-to-be-refused`]) {
      const error = await startUpError(value);
      expect(error?.name).toBe('DaprAuthConfigError');
      expect(error?.message).not.toContain(value);
      expect(findLeak(`${error?.message}\n${error?.stack}\n${capturedOutput()}`)).toBeUndefined();
    }
    expect((await startUpError(prefixed))?.message).toContain('got a `dapr-` name: daprd uses dapr- headers for itself');
  });

  it('defaults to dapr-api-token', () => {
    expect(resolveDaprAuthOptions({ token: TOKEN }, {}).tokenHeader).toBe('dapr-api-token');
  });
});
