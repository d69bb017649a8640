import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, HttpCode, Module, Post, type INestApplication } from '@nestjs/common';
import { DaprAuthHealthIndicator, DaprAuthModule, DaprAuthStatus, DaprPublic } from 'nestjs-dapr-auth';
import { SIDECAR_API_CHECK_TIMING } from '../../libs/dapr-auth/src/callers/sidecar-api-check.js';
import { SIDECAR_WIRING_TIMING } from '../../libs/dapr-auth/src/wiring/sidecar-wiring-check.js';
import { DAPR_RESOURCES_PATH } from '../../scripts/dapr/daprd-process.mjs';
import { HTTP_PLATFORMS, startHttpApp } from '../support/http.js';
import { freePort } from '../support/ports.js';
import { capturedOutput } from '../support/secrets.js';
import { TOKEN } from '../support/tokens.js';
import { DaprFleet, eventually } from './harness.js';

/**
 * The wiring check against a real daprd: what `GET /v1.0/metadata` says of how daprd calls the app
 * (port, protocol, health probe path, every subscription, declarative and programmatic) compared
 * with what the Nest app serves; each finding in DaprAuthStatus, the health indicator, and one log line.
 */

const DAPR_API_TOKEN = 'dapr-api-token-for-the-wiring-suite-0123456789';
const fleet = new DaprFleet();

@Controller()
class SubscriberController {
  @Get('healthz')
  health() {
    return { status: 'ok' };
  }

  /** Programmatic subscriptions: one served, one served by a @DaprPublic() handler, one nothing serves. */
  @Get('dapr/subscribe')
  subscribe() {
    return [
      { pubsubname: 'pubsub', topic: 'orders', route: '/orders' },
      { pubsubname: 'pubsub', topic: 'audit', route: '/audit' },
      { pubsubname: 'pubsub', topic: 'ghost', route: '/nowhere' },
    ];
  }

  @Post('orders')
  @HttpCode(200)
  orders() {
    return { status: 'SUCCESS' };
  }

  @Post('audit')
  @HttpCode(200)
  @DaprPublic()
  audit() {
    return { status: 'SUCCESS' };
  }

  @Post('declared')
  @HttpCode(200)
  declared() {
    return { status: 'SUCCESS' };
  }
}

@Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true })], controllers: [SubscriberController] })
class SubscriberModule {}

/** The suite's components (the in-memory pub/sub) and a declarative subscription of topic "declared" to /declared, scoped to `appId`. */
function resourcesWithDeclaredSubscription(appId: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dapr-wiring-'));
  copyFileSync(join(DAPR_RESOURCES_PATH, 'pubsub.yaml'), join(dir, 'pubsub.yaml'));
  writeFileSync(
    join(dir, 'declared.yaml'),
    [
      'apiVersion: dapr.io/v2alpha1',
      'kind: Subscription',
      'metadata:',
      '  name: declared',
      'spec:',
      '  pubsubname: pubsub',
      '  topic: declared',
      '  routes:',
      '    default: /declared',
      'scopes:',
      `  - ${appId}`,
      '',
    ].join('\n'),
  );
  return dir;
}

describe('the sidecar wiring check behind a real daprd', () => {
  const saved = { DAPR_HTTP_PORT: process.env.DAPR_HTTP_PORT, DAPR_API_TOKEN: process.env.DAPR_API_TOKEN };
  const timing = { api: { ...SIDECAR_API_CHECK_TIMING }, wiring: { ...SIDECAR_WIRING_TIMING } };
  const apps: INestApplication[] = [];
  const servers: Server[] = [];

  beforeAll(() => {
    Object.assign(SIDECAR_API_CHECK_TIMING, { firstRetryMs: 100, maxRetryMs: 500 });
    // A second look soon after the first: daprd may not have asked the app for its subscriptions yet at the first.
    Object.assign(SIDECAR_WIRING_TIMING, { secondLookMs: 1500, notListeningRetryMs: 100 });
  });
  afterAll(async () => {
    await fleet.stopAll();
    await Promise.all(apps.map((app) => app.close()));
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    Object.assign(SIDECAR_API_CHECK_TIMING, timing.api);
    Object.assign(SIDECAR_WIRING_TIMING, timing.wiring);
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  /** The Nest app, knowing its daprd (DAPR_HTTP_PORT, DAPR_API_TOKEN), and that daprd's HTTP port. */
  async function startApp(): Promise<{ app: INestApplication; appPort: number; daprHttpPort: number }> {
    const daprHttpPort = await freePort();
    process.env.DAPR_HTTP_PORT = String(daprHttpPort);
    process.env.DAPR_API_TOKEN = DAPR_API_TOKEN;
    const { app, baseUrl } = await startHttpApp(SubscriberModule, HTTP_PLATFORMS[0][1]);
    apps.push(app);
    return { app, appPort: Number(new URL(baseUrl).port), daprHttpPort };
  }

  it('declarative and programmatic subscriptions: an open one is an error, an unserved one a warning; status, health and one line each', async () => {
    const { app, appPort, daprHttpPort } = await startApp();
    await fleet.withLogs(async () => {
      await fleet.daprd({
        appId: 'wired',
        appPort,
        token: TOKEN,
        httpPort: daprHttpPort,
        env: { DAPR_API_TOKEN },
        healthCheckPath: '/healthz',
        resourcesPath: resourcesWithDeclaredSubscription('wired'),
        logLevel: 'info',
      });
      const status = app.get(DaprAuthStatus);
      await eventually(
        () => status.sidecarWiring.state === 'checked' && status.sidecarWiring.daprd?.subscriptions === 4,
        'the wiring check to read all four subscriptions',
        20000,
      );
      const wiring = status.sidecarWiring;
      expect(wiring.daprd).toEqual({ appPort, protocol: 'http', healthCheckPath: '/healthz', subscriptions: 4 });
      expect(wiring.findings.map(({ level, kind }) => `${level} ${kind}`)).toEqual(['error subscription-public', 'warn subscription-unserved']);
      expect(wiring.findings[0].message).toContain('topic "audit" of pubsub (programmatic) by POST /audit, and @DaprPublic() POST /audit serves it');
      expect(wiring.findings[1].message).toContain('topic "ghost" of pubsub (programmatic) by POST /nowhere, which no route of this app serves');
      expect(app.get(DaprAuthHealthIndicator).isHealthy()['dapr-auth']).toMatchObject({
        status: 'degraded',
        sidecarApi: 'requires-token',
        sidecarWiring: { state: 'checked', errors: 1, warnings: 1 },
      });
      const output = capturedOutput();
      expect(output).toMatch(/ERROR[^\n]*Sidecar wiring: daprd delivers topic "audit"[^\n]*@DaprPublic\(\) POST \/audit/);
      expect(output.match(/Sidecar wiring: daprd delivers topic "ghost"/g)).toHaveLength(1);
      // The declarative subscription and the protected programmatic one are served: no line for them.
      expect(output).not.toMatch(/Sidecar wiring:[^\n]*topic "(declared|orders)"/);
      expect(output).not.toContain(DAPR_API_TOKEN);
    })();
  });

  it('daprd calling another server than the Nest app (a DaprServer set-up), with another probe path: a warning for each', async () => {
    const { app, daprHttpPort } = await startApp();
    // What a DaprServer would be: another HTTP server on the port daprd calls, answering everything.
    const other = createServer((_request, response) => response.end('{}'));
    servers.push(other);
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherPort = (other.address() as { port: number }).port;
    await fleet.withLogs(async () => {
      await fleet.daprd({
        appId: 'elsewhere',
        appPort: otherPort,
        token: TOKEN,
        httpPort: daprHttpPort,
        env: { DAPR_API_TOKEN },
        healthCheckPath: '/health',
        logLevel: 'info',
      });
      const status = app.get(DaprAuthStatus);
      await eventually(() => status.sidecarWiring.state === 'checked', 'the wiring check to compare', 20000);
      expect(status.sidecarWiring.findings.map((finding) => finding.kind).sort()).toEqual(['app-port', 'health-path']);
      const appPort = (app.getHttpServer().address() as { port: number }).port;
      expect(status.sidecarWiring.findings.find((finding) => finding.kind === 'app-port')!.message).toContain(
        `daprd calls the app on port ${otherPort} (--app-port, dapr.io/app-port), but this Nest app's HTTP server listens on ${appPort}`,
      );
      expect(capturedOutput()).toMatch(/WARN[^\n]*Sidecar wiring: daprd probes GET \/health[^\n]*healthCheckPath: '\/health'/);
      // Warnings only: the health indicator stays up.
      expect(app.get(DaprAuthHealthIndicator).isHealthy()['dapr-auth']).toMatchObject({ status: 'up', sidecarWiring: { errors: 0, warnings: 2 } });
    })();
  });
});
