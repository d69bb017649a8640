import { createServer } from 'node:http';
import { Controller, Get, Module, Post, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DaprAuthModule, type DaprAuthModuleOptions, DaprAuthStatus, DaprCaller, type DaprCallerIdentity, DaprCallers } from 'nestjs-dapr-auth';
import { eventually } from './support/eventually.js';
import { send, testLogger } from './support/http.js';
import { capturedOutput } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';

/**
 * "No silent trust": a caller rule is only as good as the daprd API calls come through. Without
 * DAPR_API_TOKEN in the app's environment (daprd's API open to any client that reaches it, who can
 * then forge dapr-caller-app-id by self-invocation), start-up refuses and names the fix. With it,
 * where the app knows its daprd (DAPR_HTTP_PORT), the rules refuse until the sidecar check has
 * proven that daprd requires it (test/sidecar-api-check.e2e-spec.ts has every case).
 */
@Controller('restricted')
class RestrictedController {
  @Post()
  @DaprCallers('checkout')
  cancel() {
    return 'ok';
  }
}

@Controller('who')
class WhoController {
  @Get()
  who(@DaprCaller() caller: DaprCallerIdentity | undefined) {
    return { caller: caller?.appId ?? null };
  }
}

const appWith = async (controllers: Type[], options: DaprAuthModuleOptions = {}) => {
  @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true, ...options })], controllers })
  class TrustModule {}
  const app = await NestFactory.create(TrustModule, { logger: testLogger(['fatal', 'error', 'warn']), abortOnError: false });
  // The rule is checked at init, before any server listens (once a test's replacement of the guard is known).
  return app.init().catch(async (error: unknown) => {
    await app.close();
    throw error;
  });
};

describe('caller rules need DAPR_API_TOKEN', () => {
  const saved = process.env.DAPR_API_TOKEN;
  const savedPort = process.env.DAPR_HTTP_PORT;
  beforeEach(() => {
    delete process.env.DAPR_API_TOKEN;
    // The app does not know a daprd here (no sidecar check), unless a test says so.
    delete process.env.DAPR_HTTP_PORT;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.DAPR_API_TOKEN;
    else process.env.DAPR_API_TOKEN = saved;
    if (savedPort === undefined) delete process.env.DAPR_HTTP_PORT;
    else process.env.DAPR_HTTP_PORT = savedPort;
  });

  it.each([
    ['@DaprCallers on a route', [RestrictedController], {}, /caller rules \(POST \/restricted\)/],
    ['the module option callers', [WhoController], { callers: ['checkout'] }, /caller rules \(option `callers`\)/],
  ] as const)('%s without DAPR_API_TOKEN: start-up refuses and names the fix', async (_name, controllers, options, where) => {
    const failure = (await appWith([...controllers], options).then(
      () => undefined,
      (error: Error) => error,
    )) as Error;
    expect(failure?.name).toBe('DaprAuthConfigError');
    expect(failure.message).toMatch(where);
    expect(failure.message).toMatch(/DAPR_API_TOKEN is not set in this app's environment/);
    expect(failure.message).toMatch(/dapr\.io\/api-token-secret/);
    expect(failure.message).toMatch(/DAPR_API_TOKEN=<token> dapr run/);
    expect(failure.message).toMatch(/allowForgeableCallers: true/);
  });

  it('with DAPR_API_TOKEN set: starts, says nothing about it, and the rule holds', async () => {
    process.env.DAPR_API_TOKEN = 'dapr-api-token-of-the-sidecar-0123456789';
    const before = capturedOutput().length;
    const app = await appWith([RestrictedController]);
    await app.listen(0, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
      expect((await send(base, '/restricted', { method: 'POST', headers: { 'dapr-api-token': TOKEN, 'dapr-caller-app-id': 'checkout' } })).status).toBe(201);
      expect((await send(base, '/restricted', { method: 'POST', headers: { 'dapr-api-token': TOKEN, 'dapr-caller-app-id': 'intruder' } })).status).toBe(403);
      expect(capturedOutput().slice(before)).not.toMatch(/allowForgeableCallers/);
    } finally {
      await app.close();
    }
  });

  it("DAPR_API_TOKEN set but daprd's API open (the app has the Secret, the pod lacks dapr.io/api-token-secret): starts, and the rule refuses even a listed caller", async () => {
    process.env.DAPR_API_TOKEN = 'dapr-api-token-of-the-sidecar-0123456789';
    // daprd run without DAPR_API_TOKEN: GET /v1.0/metadata answers anyone.
    const daprd = createServer((_request, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    await new Promise<void>((resolve) => daprd.listen(0, '127.0.0.1', resolve));
    process.env.DAPR_HTTP_PORT = String((daprd.address() as { port: number }).port);
    const before = capturedOutput().length;
    const app = await appWith([RestrictedController]);
    await app.listen(0, '127.0.0.1');
    try {
      await eventually(() => app.get(DaprAuthStatus).sidecarApi.state === 'open', 'the sidecar check');
      const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
      // What a client of that open daprd API sends by self-invocation: the valid app token (added by daprd) and a forged caller.
      expect((await send(base, '/restricted', { method: 'POST', headers: { 'dapr-api-token': TOKEN, 'dapr-caller-app-id': 'checkout' } })).status).toBe(403);
      const output = capturedOutput().slice(before);
      expect(output).toMatch(/ERROR[^\n]*answers without DAPR_API_TOKEN[^\n]*caller rules \(POST \/restricted\) refuse every call/);
      expect(output).toMatch(/Rejected HTTP POST \/restricted: caller app "checkout" is listed, but caller rules refuse every call/);
    } finally {
      await app.close();
      daprd.closeAllConnections();
      await new Promise((resolve) => daprd.close(resolve));
    }
  });

  it('allowForgeableCallers: starts, with a warning that says what it accepts', async () => {
    const before = capturedOutput().length;
    const app = await appWith([RestrictedController], { allowForgeableCallers: true });
    await app.init();
    await app.close();
    expect(capturedOutput().slice(before)).toMatch(/allowForgeableCallers is on: the caller rules \(POST \/restricted\)[^\n]*can pass for an allowed app/);
  });

  it('@DaprCaller() without a rule needs no DAPR_API_TOKEN', async () => {
    const app = await appWith([WhoController]);
    await app.init();
    await app.close();
  });

  it('allowForgeableCallers must be a boolean', async () => {
    await expect(appWith([RestrictedController], { allowForgeableCallers: 'yes' as never })).rejects.toThrow(
      /option `allowForgeableCallers` must be true or false, got a string/,
    );
  });
});
