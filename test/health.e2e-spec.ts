import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { DaprAuthHealthIndicator, DaprAuthModule, type DaprAuthModuleOptions, DaprPublic } from 'nestjs-dapr-auth';
import { HTTP_PLATFORMS, send, startHttpApp } from './support/http.js';
import { TOKEN } from './support/tokens.js';

/** A readiness endpoint with @nestjs/terminus and DaprAuthHealthIndicator, as a user writes it. */
@Controller()
class ReadinessController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly daprAuth: DaprAuthHealthIndicator,
  ) {}

  @Get('ready')
  @DaprPublic()
  @HealthCheck()
  ready() {
    return this.health.check([() => this.daprAuth.isHealthy()]);
  }
}

function readinessModule(options: DaprAuthModuleOptions) {
  @Module({ imports: [TerminusModule, DaprAuthModule.forRoot({ ...options, global: true })], controllers: [ReadinessController] })
  class ReadinessModule {}
  return ReadinessModule;
}

const [, express] = HTTP_PLATFORMS[0];

describe('DaprAuthHealthIndicator with @nestjs/terminus', () => {
  it('up with a readable token file; degraded (still ready) while it cannot be read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dapr-health-'));
    const file = join(dir, 'token');
    writeFileSync(file, TOKEN);
    const { app, baseUrl } = await startHttpApp(readinessModule({ tokenFile: file }), express);
    try {
      const up = await send(baseUrl, '/ready');
      expect(up.status).toBe(200);
      expect(up.json).toMatchObject({ status: 'ok', info: { 'dapr-auth': { status: 'up', acceptedTokens: 1, tokenFile: { readable: true } } } });
      writeFileSync(file, ''); // emptied: the last good token stays accepted
      (app.get('DAPR_AUTH:TOKEN_SOURCE') as { reload(): void }).reload();
      const degraded = await send(baseUrl, '/ready');
      expect(degraded.status).toBe(200);
      expect(degraded.json).toMatchObject({ details: { 'dapr-auth': { status: 'degraded', tokenFile: { readable: false } } } });
      expect(degraded.body).not.toContain(TOKEN);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('down (503) while a remote JWKS has never been fetched: every JWT would be rejected', async () => {
    const { app, baseUrl } = await startHttpApp(
      readinessModule({ jwt: { jwksUri: 'http://127.0.0.1:9/jwks.json', algorithms: ['ES256'], jwksTimeout: 200 } }),
      express,
    );
    try {
      const down = await send(baseUrl, '/ready');
      expect(down.status).toBe(503);
      expect(down.json).toMatchObject({ status: 'error', error: { 'dapr-auth': { status: 'down', jwks: { state: 'none' } } } });
    } finally {
      await app.close();
    }
  });
});
