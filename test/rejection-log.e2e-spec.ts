import { Controller, Get, type INestApplication, Injectable, Module, UseGuards, type ExecutionContext } from '@nestjs/common';
import { DaprAuthGuard, DaprAuthModule, type DaprAuthModuleOptions, type RejectionReason } from 'nestjs-dapr-auth';
import { callUnary, tokenMetadata } from './support/grpc.js';
import { startGrpcAppWithClient } from './support/grpc-test-app.js';
import { HTTP_PLATFORMS, send, startHttpApp } from './support/http.js';
import { httpTestModuleWith } from './support/http-test-app.js';
import { capturedOutput } from './support/secrets.js';
import { TOKEN, WRONG_TOKEN } from './support/tokens.js';

/**
 * The rejection log's rate limit (`rejectionLogLimit`) in a running app: a flood of bad tokens
 * gets a few lines one by one, then one summary per window with the counts, and every request is
 * still rejected. (Unit tests: libs/dapr-auth/src/observe/rejection-log.spec.ts.)
 */

const rejectedLines = (pattern: RegExp) =>
  capturedOutput()
    .split('\n')
    .filter((line) => pattern.test(line));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(HTTP_PLATFORMS)('rejectionLogLimit over HTTP on %s', (_name, platform) => {
  let app: INestApplication;
  let baseUrl: string;

  async function start(options: DaprAuthModuleOptions): Promise<void> {
    ({ app, baseUrl } = await startHttpApp(httpTestModuleWith({ token: TOKEN, global: true, ...options }), platform));
  }

  afterEach(async () => {
    await app?.close();
  });

  it('logs the first 10 rejections of a window one by one by default, and the rest as one summary line when the app closes', async () => {
    await start({});
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': i < 20 ? WRONG_TOKEN : '' } })).status);
    expect(statuses.every((status) => status === 401)).toBe(true);
    expect(rejectedLines(/Rejected HTTP GET \/plain/)).toHaveLength(10);
    expect(rejectedLines(/more rejection/)).toEqual([]);
    await app.close(); // the window is 10 s: shutdown writes its summary
    expect(rejectedLines(/more rejection/)).toEqual([
      expect.stringContaining(
        '15 more rejection(s) not logged one by one in this window of 10000 ms (rejectionLogLimit: 10 lines per window); ' +
          'by transport and reason: HTTP malformed-or-mismatch: 10, HTTP missing: 5',
      ),
    ]);
  });

  it('writes the summary when the window ends, and starts the next window with a fresh allowance', async () => {
    await start({ rejectionLogLimit: { lines: 2, windowMs: 300 } });
    for (let i = 0; i < 5; i++) await send(baseUrl, '/plain', { headers: { 'dapr-api-token': WRONG_TOKEN } });
    await sleep(500);
    expect(rejectedLines(/more rejection/)).toEqual([expect.stringContaining('3 more rejection(s)')]);
    await send(baseUrl, '/plain', {});
    expect(rejectedLines(/Rejected HTTP GET \/plain/)).toHaveLength(3);
  });

  it('logs every rejection with rejectionLogLimit: false, and none with logRejections: false', async () => {
    await start({ rejectionLogLimit: false });
    for (let i = 0; i < 15; i++) await send(baseUrl, '/plain', {});
    expect(rejectedLines(/Rejected HTTP GET \/plain: missing token/)).toHaveLength(15);
    await app.close();
    await start({ logRejections: false });
    for (let i = 0; i < 15; i++) await send(baseUrl, '/plain', {});
    await app.close();
    expect(rejectedLines(/Rejected HTTP/)).toHaveLength(15); // the 15 of the first app only
    expect(rejectedLines(/more rejection/)).toEqual([]);
  });
});

/** A guard of the app's own that sees every rejection's reason through the logRejection hook. */
const reasonsSeen: RejectionReason[] = [];
@Injectable()
class ReasonRecordingGuard extends DaprAuthGuard {
  protected override logRejection(context: ExecutionContext, adapter: never, reason: RejectionReason): void {
    reasonsSeen.push(reason);
    super.logRejection(context, adapter, reason);
  }
}

@Controller('own-guard')
@UseGuards(ReasonRecordingGuard)
class OwnGuardController {
  @Get()
  get() {
    return {};
  }
}

describe.each(HTTP_PLATFORMS)('the reason an overriding logRejection receives, on %s', (_name, platform) => {
  // The guard classifies a refused token lazily unless something sees every reason: an
  // overriding logRejection must still be told malformed from mismatch, logging on or off.
  it.each([
    ['off', false as const],
    ['on, limited to 1 line', 'warn' as const],
  ])('with the log %s', async (_case, logRejections) => {
    @Module({
      imports: [DaprAuthModule.forRoot({ token: TOKEN, logRejections, rejectionLogLimit: { lines: 1, windowMs: 60_000 } })],
      controllers: [OwnGuardController],
      providers: [ReasonRecordingGuard],
    })
    class OwnGuardModule {}
    reasonsSeen.length = 0;
    const { app, baseUrl } = await startHttpApp(OwnGuardModule, platform);
    try {
      const tokens = [WRONG_TOKEN, `${TOKEN} x`, 'x'.repeat(5000), WRONG_TOKEN, ''];
      const statuses: number[] = [];
      for (const token of tokens) statuses.push((await send(baseUrl, '/own-guard', { headers: { 'dapr-api-token': token } })).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401]);
      expect(reasonsSeen).toEqual(['mismatch', 'malformed', 'malformed', 'mismatch', 'missing']);
    } finally {
      await app.close();
    }
  });
});

describe('rejectionLogLimit over gRPC', () => {
  it('limits gRPC rejections the same way, counted under gRPC', async () => {
    const grpcApp = await startGrpcAppWithClient({ token: TOKEN, rejectionLogLimit: { lines: 1, windowMs: 60_000 } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await callUnary(grpcApp.client, 'OnInvoke', { method: 'orders' }, tokenMetadata(WRONG_TOKEN))).code ?? 0);
      expect(codes).toEqual([16, 16, 16, 16]);
      expect(rejectedLines(/Rejected gRPC/)).toHaveLength(1);
    } finally {
      await grpcApp.close();
    }
    expect(rejectedLines(/more rejection/)).toEqual([expect.stringContaining('3 more rejection(s)')]);
    expect(rejectedLines(/more rejection/)[0]).toContain('gRPC malformed-or-mismatch: 3');
  });
});
