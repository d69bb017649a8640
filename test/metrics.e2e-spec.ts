import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { metrics as otelMetrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { callUnary, grpcClient, tokenMetadata } from './support/grpc.js';
import { startGrpcApp } from './support/grpc-test-app.js';
import { HTTP_PLATFORMS, send, startHttpApp, testLogger } from './support/http.js';
import { httpTestModuleWith } from './support/http-test-app.js';
import { capturedOutput, registerSecret } from './support/secrets.js';
import { PREVIOUS_TOKEN, TOKEN, WRONG_TOKEN } from './support/tokens.js';

/** A reader the test collects from on demand (the SDK's own base class, no exporter). */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** Every data point of every instrument: `name{attr=value,...} value`, sorted. */
async function collected(reader: TestReader): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const points: Record<string, number> = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const point of metric.dataPoints) {
        const attrs = Object.entries(point.attributes)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([key, value]) => `${key}=${String(value)}`)
          .join(',');
        points[`${metric.descriptor.name}{${attrs}}`] = point.value as number;
      }
    }
  }
  return points;
}

function meter() {
  const reader = new TestReader();
  return { reader, meterProvider: new MeterProvider({ readers: [reader] }) };
}

describe.each(HTTP_PLATFORMS)('metrics over HTTP on %s (a real OpenTelemetry MeterProvider)', (_name, platform) => {
  let app: INestApplication;
  let baseUrl: string;
  const { reader, meterProvider } = meter();
  beforeAll(async () => {
    ({ app, baseUrl } = await startHttpApp(httpTestModuleWith({ token: [TOKEN, PREVIOUS_TOKEN], global: true, metrics: { meterProvider } }), platform));
  });
  afterAll(() => app.close());

  it('counts each decision exactly, by transport, outcome and reason, and accepted tokens by generation', async () => {
    for (let i = 0; i < 3; i++) await send(baseUrl, '/plain', { headers: { 'dapr-api-token': TOKEN } });
    await send(baseUrl, '/plain', { headers: { 'dapr-api-token': PREVIOUS_TOKEN } });
    await send(baseUrl, '/plain');
    await send(baseUrl, '/plain', { headers: { 'dapr-api-token': WRONG_TOKEN } });
    await send(baseUrl, '/plain', { headers: { 'dapr-api-token': [TOKEN, TOKEN] } });
    await send(baseUrl, '/plain/public');
    await send(baseUrl, '/healthz');
    expect(await collected(reader)).toEqual({
      'dapr.auth.decisions{dapr.auth.outcome=accepted,dapr.auth.transport=http}': 4,
      'dapr.auth.decisions{dapr.auth.outcome=rejected,dapr.auth.reason=missing,dapr.auth.transport=http}': 1,
      'dapr.auth.decisions{dapr.auth.outcome=rejected,dapr.auth.reason=mismatch,dapr.auth.transport=http}': 1,
      'dapr.auth.decisions{dapr.auth.outcome=rejected,dapr.auth.reason=malformed,dapr.auth.transport=http}': 1,
      'dapr.auth.decisions{dapr.auth.outcome=public,dapr.auth.transport=http}': 1,
      'dapr.auth.decisions{dapr.auth.outcome=exempt,dapr.auth.transport=http}': 1,
      'dapr.auth.token.accepted{dapr.auth.token.generation=current}': 3,
      'dapr.auth.token.accepted{dapr.auth.token.generation=previous}': 1,
      'dapr.auth.tokens{}': 2,
    });
  });
});

describe('metrics over gRPC', () => {
  let app: INestMicroservice;
  let client: any;
  const { reader, meterProvider } = meter();
  beforeAll(async () => {
    let address: string;
    ({ app, address } = await startGrpcApp({ token: TOKEN, metrics: { meterProvider } }));
    client = grpcClient('AppCallback', address);
  });
  afterAll(async () => {
    client.close();
    await app.close();
  });

  it('counts gRPC decisions, exempt discovery calls included', async () => {
    await callUnary(client, 'OnInvoke', { method: 'x' }, tokenMetadata(TOKEN));
    await callUnary(client, 'OnInvoke', { method: 'x' }, tokenMetadata());
    await callUnary(client, 'ListInputBindings', {}, tokenMetadata());
    const points = await collected(reader);
    expect(points['dapr.auth.decisions{dapr.auth.outcome=accepted,dapr.auth.transport=grpc}']).toBe(1);
    expect(points['dapr.auth.decisions{dapr.auth.outcome=rejected,dapr.auth.reason=missing,dapr.auth.transport=grpc}']).toBe(1);
    expect(points['dapr.auth.decisions{dapr.auth.outcome=exempt,dapr.auth.transport=grpc}']).toBe(1);
  });
});

describe('metrics of a token file and of report-only mode', () => {
  it('a rotation shows previous-token use and the grace period left; report-only counts what it lets through as rejected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dapr-metrics-'));
    const file = join(dir, 'token');
    writeFileSync(file, TOKEN);
    const { reader, meterProvider } = meter();
    const { app, baseUrl } = await startHttpApp(
      httpTestModuleWith({ tokenFile: file, tokenFileGracePeriod: 60_000, global: true, mode: 'report', metrics: { meterProvider } }),
      HTTP_PLATFORMS[0][1],
    );
    try {
      const next = 'nxt-Q8wE4rT6yU1iO3pA5sD7fG9hJ2kLz0Xc4Vb6Nm';
      registerSecret(next);
      writeFileSync(file, next);
      const source = app.get('DAPR_AUTH:TOKEN_SOURCE') as { reload(): void };
      source.reload();
      await send(baseUrl, '/plain', { headers: { 'dapr-api-token': TOKEN } });
      await send(baseUrl, '/plain', { headers: { 'dapr-api-token': next } });
      expect((await send(baseUrl, '/plain', { headers: { 'dapr-api-token': WRONG_TOKEN } })).status).toBe(200); // report-only
      const points = await collected(reader);
      expect(points['dapr.auth.token.accepted{dapr.auth.token.generation=previous}']).toBe(1);
      expect(points['dapr.auth.token.accepted{dapr.auth.token.generation=current}']).toBe(1);
      expect(points['dapr.auth.decisions{dapr.auth.outcome=rejected,dapr.auth.reason=mismatch,dapr.auth.transport=http}']).toBe(1);
      expect(points['dapr.auth.tokens{}']).toBe(2);
      expect(points['dapr.auth.token_file.grace_period.remaining{}']).toBeGreaterThan(50);
      expect(points['dapr.auth.token_file.failing{}']).toBe(0);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('DaprAuthStatus, injected', () => {
  it('is the same facts for your own endpoints: decisions, tokens, previous-token use', async () => {
    const { DaprAuthStatus } = await import('nestjs-dapr-auth');
    const { app, baseUrl } = await startHttpApp(httpTestModuleWith({ token: [TOKEN, PREVIOUS_TOKEN], global: true }), HTTP_PLATFORMS[0][1]);
    try {
      await send(baseUrl, '/plain', { headers: { 'dapr-api-token': PREVIOUS_TOKEN } });
      await send(baseUrl, '/plain');
      const status = app.get(DaprAuthStatus);
      expect(status.acceptedTokens).toBe(2);
      expect(status.rotationInProgress).toBe(true);
      expect(status.previousTokenUses).toBe(1);
      expect(status.decisions).toMatchObject({ accepted: 1, rejected: 1 });
    } finally {
      await app.close();
    }
  });
});

describe('metrics: where the measurements go', () => {
  /** Start-up output (LOG level included) of an app with these options. */
  async function startUpOutput(options: object): Promise<string> {
    const before = capturedOutput().length;
    const app = await NestFactory.create(httpTestModuleWith({ token: TOKEN, global: true, ...options }), {
      logger: testLogger(['log', 'warn', 'error']),
      abortOnError: false,
    });
    await app.init();
    await app.close();
    return capturedOutput().slice(before);
  }

  it('metrics: true with no MeterProvider registered: a warning at start-up, and the start-up line says so', async () => {
    otelMetrics.disable(); // an earlier suite may have registered a global MeterProvider
    const output = await startUpOutput({ metrics: true });
    expect(output).toMatch(/WARN[^\n]*option `metrics` is on, but no OpenTelemetry MeterProvider is registered: every measurement is lost/);
    expect(output).toMatch(/metrics: OpenTelemetry, but NO MeterProvider is registered \(measurements lost\)\./);
  });

  it('with a MeterProvider given: no warning, and the line names it', async () => {
    const output = await startUpOutput({ metrics: { meterProvider: new MeterProvider() } });
    expect(output).not.toMatch(/no OpenTelemetry MeterProvider is registered/);
    expect(output).toMatch(/metrics: OpenTelemetry, to the given MeterProvider\./);
  });
});
