import { type CanActivate, Controller, Get, Injectable, Module, Post, type Provider, Scope, type Type } from '@nestjs/common';
import { APP_GUARD, ModuleRef, NestFactory } from '@nestjs/core';
import { GrpcMethod } from '@nestjs/microservices';
import { DaprAuthConfigError, DaprAuthGuard, DaprAuthModule, DaprProtected, DaprPublic, type DaprAuthModuleOptions } from 'nestjs-dapr-auth';
import { HTTP_PLATFORMS, send, startHttpApp, testLogger } from './support/http.js';
import { capturedOutput } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';

/** What a Dapr app typically has: daprd's own routes, business routes, a health route, and gRPC. */
@Controller()
class DaprRoutesController {
  @Get('dapr/subscribe')
  subscribe() {
    return [];
  }

  @Get('dapr/config')
  @DaprPublic()
  config() {
    return {};
  }

  @Post('events/orders')
  @DaprPublic()
  onOrder() {
    return {};
  }

  @Get('healthz')
  health() {
    return 'ok';
  }
}

@Controller('orders')
class OrdersController {
  @Get(':id')
  get() {
    return {};
  }

  @Post()
  @DaprProtected()
  create() {
    return {};
  }
}

@Controller()
class CallbackController {
  @GrpcMethod('AppCallback', 'OnInvoke')
  onInvoke() {
    return {};
  }

  @GrpcMethod('AppCallback', 'ListTopicSubscriptions')
  listTopicSubscriptions() {
    return {};
  }
}

const [, express] = HTTP_PLATFORMS[0];

function create(options: DaprAuthModuleOptions & { global?: boolean }) {
  @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, ...options })], controllers: [DaprRoutesController, OrdersController, CallbackController] })
  class AuditModule {}
  return NestFactory.create(AuditModule, express(), { logger: testLogger(), abortOnError: false });
}

describe('start-up audit of what is left open', () => {
  it('lists every HTTP route and RPC handler nothing protects (warn, the default), and the @DaprPublic() ones daprd calls', async () => {
    const app = await create({});
    await app.init(); // the audit runs once Nest has built the full paths of the HTTP routes
    await app.close();
    const output = capturedOutput();
    expect(output).toContain('3 handler(s) without DaprAuthGuard, open to anyone who reaches the port:');
    for (const target of ['GET /dapr/subscribe', 'GET /orders/:id', 'AppCallback/OnInvoke (CallbackController.onInvoke)'])
      expect(output).toContain(`  - ${target}`);
    // Protected, exempt (daprd's health probe and token-less discovery call), or explicitly public: not in that list.
    expect(output).not.toMatch(/ - (POST \/orders|GET \/healthz|AppCallback\/ListTopicSubscriptions)/);
    expect(output).toContain('set `global: true`');
    expect(output).toMatch(/@DaprPublic\(\) handlers that daprd calls WITH the token[^\n]*\n\s+- GET \/dapr\/config/);
    expect(output).toMatch(/Public POST routes[^\n]*pub\/sub[^\n]*\n\s+- POST \/events\/orders/);
  });

  it("unprotected: 'error' refuses to start, naming the handlers and the fix", async () => {
    // An open message handler stops NestFactory.create itself (a hybrid app serves it before init)...
    const starting = create({ unprotected: 'error' });
    await expect(starting).rejects.toThrow(DaprAuthConfigError);
    await expect(starting).rejects.toThrow(/1 handler\(s\) without DaprAuthGuard[^\n]*\n\s+- AppCallback\/OnInvoke[^\n]*\nFix: set `global: true`/);
    // ...and open HTTP routes stop app.init(), named with the paths Nest serves them at.
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, unprotected: 'error' })], controllers: [DaprRoutesController, OrdersController] })
    class HttpOnlyModule {}
    const app = await NestFactory.create(HttpOnlyModule, express(), { logger: testLogger(), abortOnError: false });
    app.setGlobalPrefix('api', { exclude: ['dapr/subscribe'] });
    // /api/healthz is not daprd's probe path (/healthz): open like any other route (G11).
    await expect(app.init()).rejects.toThrow(
      /3 handler\(s\) without DaprAuthGuard[^\n]*\n\s+- GET \/dapr\/subscribe\n\s+- GET \/api\/healthz\n\s+- GET \/api\/orders\/:id\nFix: set `global: true`/,
    );
    await app.close();
  });

  it("with global: true nothing is left open, so 'error' starts", async () => {
    const app = await create({ global: true, unprotected: 'error' });
    await app.close();
    expect(capturedOutput()).not.toContain('without DaprAuthGuard');
  });

  it("unprotected: 'ignore' says nothing", async () => {
    const app = await create({ unprotected: 'ignore' });
    await app.close();
    expect(capturedOutput()).not.toMatch(/without DaprAuthGuard|daprd calls WITH the token/);
  });

  it('@DaprPublic() and the guard on the same method count as protected, with a warning', async () => {
    @Controller('both')
    class BothController {
      @Get()
      @DaprPublic()
      @DaprProtected()
      both() {
        return {};
      }
    }
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN })], controllers: [BothController] })
    class BothModule {}
    const { app, baseUrl } = await startHttpApp(BothModule, express);
    try {
      expect((await send(baseUrl, '/both')).status).toBe(401);
      expect((await send(baseUrl, '/both', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    } finally {
      await app.close();
    }
    expect(capturedOutput()).toMatch(/@DaprPublic\(\) and DaprAuthGuard on the same method or class; they are PROTECTED[^\n]*\n\s+- GET \/both/);
  });
});

/** A guard of the app's own that extends DaprAuthGuard (e.g. to override a protected hook). */
@Injectable()
class AppDaprAuthGuard extends DaprAuthGuard {}

/** Not a DaprAuthGuard: lets everything through. */
@Injectable()
class AllowAllGuard implements CanActivate {
  canActivate() {
    return true;
  }
}

/** A DaprAuthGuard made by another application context (its own module and token), for `useValue`. */
@Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN })] })
class ElsewhereModule {}
const elsewhere = await NestFactory.createApplicationContext(ElsewhereModule, { logger: false });
afterAll(() => elsewhere.close());
const GUARD_BUILT_ELSEWHERE = elsewhere.get(DaprAuthGuard);

/**
 * The ways an app registers a guard as APP_GUARD itself, without `global: true`: whether the audit
 * counts it, and what an undecorated route answers without a token.
 */
const APP_GUARD_SHAPES: Array<[string, Provider[], boolean, number]> = [
  ['useClass: DaprAuthGuard', [{ provide: APP_GUARD, useClass: DaprAuthGuard }], true, 401],
  ['useClass: a subclass', [{ provide: APP_GUARD, useClass: AppDaprAuthGuard }], true, 401],
  ['useExisting: a subclass', [AppDaprAuthGuard, { provide: APP_GUARD, useExisting: AppDaprAuthGuard }], true, 401],
  ['useClass: a subclass, request-scoped', [{ provide: APP_GUARD, useClass: AppDaprAuthGuard, scope: Scope.REQUEST }], true, 401],
  ['useValue: a guard built elsewhere', [{ provide: APP_GUARD, useValue: GUARD_BUILT_ELSEWHERE }], true, 401],
  // A factory's product is unknown until it runs: not counted (a warning too many, never a guard counted that is not there).
  ['useFactory', [{ provide: APP_GUARD, inject: [ModuleRef], useFactory: (moduleRef: ModuleRef) => moduleRef.create(AppDaprAuthGuard) }], false, 401],
  ['useClass: a guard that is not DaprAuthGuard', [{ provide: APP_GUARD, useClass: AllowAllGuard }], false, 200],
];

describe.each(HTTP_PLATFORMS)('start-up audit: a DaprAuthGuard the app registers as APP_GUARD itself (%s)', (_name, platform) => {
  function appWith(providers: Provider[], controllers: Type[], options: DaprAuthModuleOptions = {}) {
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, ...options })], controllers, providers })
    class AppGuardModule {}
    return AppGuardModule;
  }

  it.each(APP_GUARD_SHAPES)('%s: counted as protecting the HTTP routes: %s', async (_shape, providers, counted, withoutToken) => {
    // Counted, it must start with unprotected: 'error'; not counted, the routes are listed.
    const module = appWith(providers, [DaprRoutesController, OrdersController], { unprotected: counted ? 'error' : 'warn' });
    const { app, baseUrl } = await startHttpApp(module, platform);
    try {
      expect((await send(baseUrl, '/orders/1')).status).toBe(withoutToken);
      expect((await send(baseUrl, '/orders/1', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
      expect((await send(baseUrl, '/dapr/config')).status).toBe(200); // @DaprPublic()
    } finally {
      await app.close();
    }
    const output = capturedOutput();
    if (counted) expect(output).not.toContain('without DaprAuthGuard');
    else expect(output).toMatch(/2 handler\(s\) without DaprAuthGuard[^\n]*\n\s+- GET \/dapr\/subscribe\n\s+- GET \/orders\/:id\n/);
  });

  it('a gRPC handler stays listed, with why (an APP_GUARD reaches a connected microservice only with inheritAppConfig)', async () => {
    const module = appWith([{ provide: APP_GUARD, useClass: AppDaprAuthGuard }], [OrdersController, CallbackController], { unprotected: 'error' });
    const starting = NestFactory.create(module, platform(), { logger: testLogger(), abortOnError: false });
    await expect(starting).rejects.toThrow(DaprAuthConfigError);
    const message = await starting.catch((error: Error) => error.message);
    expect(message).toMatch(/1 handler\(s\) without DaprAuthGuard[^\n]*\n\s+- AppCallback\/OnInvoke \(CallbackController.onInvoke\)\n/);
    expect(message).not.toContain('GET /orders/:id');
    expect(message).toContain('Your APP_GUARD AppDaprAuthGuard covers the HTTP routes');
    expect(message).toContain('{ inheritAppConfig: true }');
  });

  it('the start-up line names it', async () => {
    const module = appWith([{ provide: APP_GUARD, useClass: AppDaprAuthGuard }], [OrdersController]);
    const app = await NestFactory.create(module, platform(), { logger: testLogger(['log', 'warn', 'error']), abortOnError: false });
    await app.init();
    await app.close();
    expect(capturedOutput()).toContain(
      "APP_GUARD AppDaprAuthGuard (the app's own): every HTTP route that is not @DaprPublic(), and where @DaprProtected() / @UseGuards(DaprAuthGuard) is;",
    );
  });
});

describe('start-up summary', () => {
  it('one LOG line: where the tokens come from and how many, global or not, handlers per transport, the exemptions; never a token', async () => {
    @Module({ imports: [DaprAuthModule.forRoot({ token: [TOKEN, `${TOKEN}-previous`], global: true })], controllers: [OrdersController, CallbackController] })
    class SummaryModule {}
    const app = await NestFactory.create(SummaryModule, express(), { logger: testLogger(['log', 'warn', 'error']), abortOnError: false });
    await app.init();
    await app.close();
    const lines = capturedOutput()
      .split('\n')
      .filter((line) => line.includes('Checking dapr-api-token'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(' LOG ');
    expect(lines[0]).toContain(
      'Checking dapr-api-token: 2 accepted tokens from option `token`; global: every route, message handler and resolver that is not @DaprPublic(); ' +
        '2 HTTP route(s), 2 gRPC / message handler(s); passing without a token: GET/HEAD /healthz (no route serves it without a token: see the warning) and gRPC HealthCheck, ListTopicSubscriptions, ListInputBindings; daprd API requiring DAPR_API_TOKEN: not checked (DAPR_HTTP_PORT not set); metrics: off.',
    );
  });
});

describe("start-up: daprd's HTTP health probe", () => {
  @Controller()
  class HealthzController {
    @Get('healthz')
    health() {
      return 'ok';
    }

    @Get('ready')
    ready() {
      return 'ready';
    }
  }

  async function startUpLines(controllers: Type[], options: object = {}): Promise<string> {
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true, ...options })], controllers })
    class HealthModule {}
    const before = capturedOutput().length;
    const app = await NestFactory.create(HealthModule, express(), { logger: testLogger(['log', 'warn', 'error']), abortOnError: false });
    await app.init();
    await app.close();
    return capturedOutput().slice(before);
  }

  it('an HTTP app without a route on healthCheckPath: a warning that names the fix', async () => {
    const output = await startUpLines([OrdersController]);
    expect(output).toMatch(
      /WARN[^\n]*No route serves GET \/healthz \(healthCheckPath\), daprd's HTTP app health probe, without a token:\n\s+- no route is served there\n[^\n]*set healthCheckPath/,
    );
  });

  it('with the route, or another healthCheckPath that a route serves: no warning, and the line says nothing is missing', async () => {
    for (const [controllers, options] of [
      [[OrdersController, HealthzController], {}],
      [[OrdersController, HealthzController], { healthCheckPath: '/ready' }],
    ] as const) {
      const output = await startUpLines([...controllers], options);
      expect(output).not.toMatch(/No route serves/);
      expect(output).not.toMatch(/no route serves it/);
    }
  });

  it('a gRPC-only app (probed over gRPC): no warning', async () => {
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true })], controllers: [CallbackController] })
    class GrpcOnlyModule {}
    const before = capturedOutput().length;
    const app = await NestFactory.createApplicationContext(GrpcOnlyModule, { logger: testLogger(['log', 'warn', 'error']), abortOnError: false });
    await app.close();
    expect(capturedOutput().slice(before)).not.toMatch(/No route serves/);
  });
});
