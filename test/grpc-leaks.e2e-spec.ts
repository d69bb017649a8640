import { connect, constants } from 'node:http2';
import type { INestMicroservice } from '@nestjs/common';
import { redactDaprTokenInMessage, redactDaprTokensInGrpcJsLogs } from 'nestjs-dapr-auth';
import { grpc } from './support/grpc.js';
import { startGrpcApp, handlerCalls } from './support/grpc-test-app.js';
import { capturedLines, capturedOutput, findLeak, registerSecret } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';

/**
 * grpc-js checks metadata before any guard runs and logs an entry it refuses (here a value with
 * a non-ASCII character, which no gRPC client library will send, so this test speaks raw HTTP/2)
 * with its value, at ERROR. This suite shows that, and that redactDaprTokensInGrpcJsLogs()
 * prevents it; either way the call is rejected with 16, never a 5xx-like status or a crash.
 */
const PRESENTED = `${TOKEN.slice(0, 20)}\u00e9${TOKEN.slice(21)}`; // a near-miss of the token, one byte off
registerSecret(PRESENTED);

/** One unary OnInvoke call over raw HTTP/2 with the given `dapr-api-token` header; resolves with grpc-status. */
function rawGrpcCall(address: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${address}`);
    session.on('error', reject);
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: '/dapr.proto.runtime.v1.AppCallback/OnInvoke',
      'content-type': 'application/grpc',
      te: 'trailers',
      'dapr-api-token': token,
    });
    let status: number | undefined;
    stream.on('response', (headers) => headers['grpc-status'] !== undefined && (status = Number(headers['grpc-status'])));
    stream.on('trailers', (trailers) => (status = Number(trailers['grpc-status'])));
    stream.on('close', () => {
      session.close();
      if (status === undefined) reject(new Error('no grpc-status'));
      else resolve(status);
    });
    stream.on('error', reject);
    stream.on('data', () => undefined); // read the reply, or the stream never closes
    stream.end(Buffer.from([0, 0, 0, 0, 0])); // one empty, uncompressed message
  });
}

describe('grpc-js logs a refused dapr-api-token value', () => {
  let app: INestMicroservice;
  let address: string;

  beforeAll(async () => {
    ({ app, address } = await startGrpcApp({ token: TOKEN }));
  });
  afterAll(() => app.close());

  it('in full, by default (what redactDaprTokensInGrpcJsLogs is for); the call is still rejected with 16', async () => {
    const before = handlerCalls.count;
    expect(await rawGrpcCall(address, PRESENTED)).toBe(grpc.status.UNAUTHENTICATED);
    expect(handlerCalls.count).toBe(before);
    // grpc-js printed the value: this is the behaviour being documented, so the captured output is
    // checked here and then cleared, or the shared leak check would (rightly) fail this test.
    expect(capturedOutput()).toContain('Failed to add metadata entry dapr-api-token');
    const leaked = capturedOutput().includes(PRESENTED);
    capturedLines().length = 0;
    expect(leaked).toBe(true);
  });

  it('never, once redactDaprTokensInGrpcJsLogs(grpc) is called', async () => {
    redactDaprTokensInGrpcJsLogs(grpc);
    try {
      expect(await rawGrpcCall(address, PRESENTED)).toBe(grpc.status.UNAUTHENTICATED);
      const output = capturedOutput();
      expect(output).toContain('E Failed to add metadata entry dapr-api-token: [value redacted by nestjs-dapr-auth]');
      expect(findLeak(output)).toBeUndefined();
      // The right token over the same raw path still works.
      expect(await rawGrpcCall(address, TOKEN)).toBe(grpc.status.OK);
    } finally {
      grpc.setLogger(console);
    }
  });

  it('redacts a refused entry whatever its key (a custom tokenHeader such as x-app-token)', () => {
    expect(
      redactDaprTokenInMessage(`Failed to add metadata entry x-app-token: ${PRESENTED}. Metadata string value "${PRESENTED}" contains illegal characters`),
    ).toBe('Failed to add metadata entry x-app-token: [value redacted by nestjs-dapr-auth]');
  });

  it('leaves other grpc-js messages as they are', () => {
    const message = 'Connection dropped: keepalive timeout';
    expect(redactDaprTokenInMessage(message)).toBe(message);
    expect(redactDaprTokenInMessage(`Failed to add metadata entry DAPR-API-TOKEN-bin: ${PRESENTED}. x`)).toBe(
      'Failed to add metadata entry DAPR-API-TOKEN-bin: [value redacted by nestjs-dapr-auth]',
    );
  });
});
