import type { INestApplication } from '@nestjs/common';
import { callStream, callUnary, tokenMetadata } from './support/grpc.js';
import { handlerCalls, startGrpcApp, withGrpcClients } from './support/grpc-test-app.js';
import { HTTP_PLATFORMS, send, startHttpApp } from './support/http.js';
import { httpTestModuleWith } from './support/http-test-app.js';
import { capturedOutput } from './support/secrets.js';
import { TOKEN, WRONG_TOKEN } from './support/tokens.js';
import { ReportOnlyMonitor } from '../libs/dapr-auth/src/observe/report-only-monitor.js';
import { resolveDaprAuthOptions } from '../libs/dapr-auth/src/options/resolve-dapr-auth-options.js';

/**
 * `mode: 'report'`, for rolling the guard out: every decision is made and logged as usual, nothing
 * is refused, and the mode says so loudly.
 */
describe.each(HTTP_PLATFORMS)("mode: 'report' over HTTP on %s", (_name, platform) => {
  let app: INestApplication;
  let baseUrl: string;
  beforeAll(async () => {
    ({ app, baseUrl } = await startHttpApp(httpTestModuleWith({ token: TOKEN, global: true, mode: 'report' }), platform));
  });
  afterAll(() => app.close());

  it('lets a request without or with a wrong token through, and logs what enforcing would have done', async () => {
    expect(await send(baseUrl, '/plain')).toMatchObject({ status: 200, json: { route: 'plain' } });
    expect((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': WRONG_TOKEN } })).status).toBe(200);
    // A route guard in another module (the test module) reports too: the monitor is exported.
    expect((await send(baseUrl, '/use-guards')).status).toBe(200);
    expect((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    const output = capturedOutput();
    expect(output).toContain('Would reject (report-only mode: let through) HTTP GET /plain: missing token');
    expect(output).toContain('Would reject (report-only mode: let through) HTTP GET /plain: token mismatch');
    expect(output).toContain('Would reject (report-only mode: let through) HTTP GET /use-guards: missing token');
    expect(output.match(/Would reject/g)).toHaveLength(3);
  });
});

describe("mode: 'report' over gRPC", () => {
  let callback: any;
  let streaming: any;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ callback, streaming, close } = await withGrpcClients(startGrpcApp({ token: TOKEN, mode: 'report' })));
  });
  afterAll(() => close());

  it('runs the handler of a call without the token, unary and @GrpcStreamCall, and logs it', async () => {
    const before = handlerCalls.count;
    expect((await callUnary(callback, 'OnInvoke', { method: 'x' }, tokenMetadata())).code).toBe(0);
    expect(await callStream(streaming, 'DuplexCall', tokenMetadata(), { send: [{ text: 'a' }] })).toMatchObject({ code: 0, messages: [{ text: 'echo a' }] });
    expect(handlerCalls.count).toBe(before + 2);
    expect(capturedOutput()).toContain('Would reject (report-only mode: let through) gRPC /dapr.proto.runtime.v1.AppCallback/OnInvoke: missing token');
  });
});

describe('report-only mode, the loud parts', () => {
  it('warns at start-up and in the summary line', async () => {
    const { app } = await startHttpApp(httpTestModuleWith({ token: TOKEN, global: true, mode: 'report' }), HTTP_PLATFORMS[0][1]);
    await app.close();
    expect(capturedOutput()).toContain("REPORT-ONLY MODE (mode: 'report'): DaprAuthGuard REFUSES NOTHING");
  });

  it('reminds periodically how many requests would have been rejected', async () => {
    const lines: string[] = [];
    const monitor = new ReportOnlyMonitor({ warn: (line: string) => lines.push(line) } as never, 30);
    monitor.start();
    monitor.count();
    monitor.count();
    await new Promise((resolve) => setTimeout(resolve, 45));
    monitor.count();
    await new Promise((resolve) => setTimeout(resolve, 30));
    monitor.stop();
    expect(lines[0]).toContain('REFUSES NOTHING');
    expect(lines[1]).toContain('2 request(s) in the last 0 s would have been rejected (2 since start-up)');
    expect(lines[2]).toContain('1 request(s) in the last 0 s would have been rejected (3 since start-up)');
    expect(monitor.wouldHaveRejected).toBe(3);
  });

  it('is never the default, and is refused with allowUnconfigured or an unknown mode', () => {
    expect(resolveDaprAuthOptions({ token: TOKEN }, {}).mode).toBe('enforce');
    expect(() => resolveDaprAuthOptions({ mode: 'report', allowUnconfigured: true }, {})).toThrow(/`mode: 'report'` and `allowUnconfigured: true` together/);
    expect(() => resolveDaprAuthOptions({ token: TOKEN, mode: 'audit' as never }, {})).toThrow(/`mode` must be one of 'enforce', 'report', got a string/);
  });
});

describe("mode: 'report' with @DaprCallers", () => {
  it('runs the handler for a refused caller, and @DaprCaller() shows who it was', async () => {
    const { Controller, Module, Post } = await import('@nestjs/common');
    const { DaprAuthModule, DaprCaller, DaprCallers } = await import('nestjs-dapr-auth');
    @Controller('pay')
    class PayController {
      @Post()
      @DaprCallers('checkout')
      pay(@DaprCaller() caller: { appId: string } | undefined) {
        return { by: caller?.appId ?? null };
      }
    }
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, mode: 'report', allowForgeableCallers: true })], controllers: [PayController] })
    class PayModule {}
    const { app, baseUrl } = await startHttpApp(PayModule, HTTP_PLATFORMS[0][1]);
    try {
      const post = (caller?: string) =>
        send(baseUrl, '/pay', { method: 'POST', headers: { 'dapr-api-token': TOKEN, ...(caller ? { 'dapr-caller-app-id': caller } : {}) } });
      expect(await post('evil')).toMatchObject({ status: 201, json: { by: 'evil' } });
      expect(await post()).toMatchObject({ status: 201, json: { by: null } });
      expect(capturedOutput()).toContain('Would reject (report-only mode: let through) HTTP POST /pay: caller app "evil" is not in @DaprCallers');
    } finally {
      await app.close();
    }
  });
});
