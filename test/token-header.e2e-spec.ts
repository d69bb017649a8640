import type { INestApplication } from '@nestjs/common';
import { daprHeaders, setDaprMetadata } from 'nestjs-dapr-auth/testing';
import { callStream, callUnary, grpc, grpcClient } from './support/grpc.js';
import { startGrpcApp } from './support/grpc-test-app.js';
import { HTTP_PLATFORMS, send, startHttpApp } from './support/http.js';
import { httpTestModuleWith } from './support/http-test-app.js';
import { capturedOutput } from './support/secrets.js';
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
});

describe('tokenHeader is checked at start-up', () => {
  it.each(['Dapr-Api-Token', 'grpc-token', 'token-bin', 'has space', '', 42])('refuses %p', (value) => {
    expect(() => resolveDaprAuthOptions({ token: TOKEN, tokenHeader: value as string }, {})).toThrow(/option `tokenHeader` must be a header name/);
  });

  it('defaults to dapr-api-token', () => {
    expect(resolveDaprAuthOptions({ token: TOKEN }, {}).tokenHeader).toBe('dapr-api-token');
  });
});
