import { All, Controller, Get, type INestApplication, Module, type Type, Version, VERSION_NEUTRAL, VersioningType } from '@nestjs/common';
import { NestFactory, RouterModule } from '@nestjs/core';
import { GrpcMethod } from '@nestjs/microservices';
import { DaprAuthConfigError, DaprAuthModule, type DaprAuthModuleOptions, DaprCallers, DaprProtected } from 'nestjs-dapr-auth';
import { HTTP_PLATFORMS, type PlatformFactory, send, testLogger } from './support/http.js';
import { capturedOutput } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';

/**
 * Issue 29, G2 and G11: which handler daprd's health probe reaches is decided once per handler at
 * start-up, from the full path Nest serves it at (global prefix, RouterModule, URI versioning) and
 * whether a request without a version reaches it, never from a request's URL; a rule on the
 * handler itself is a contradiction start-up refuses. Each case is a real server, Express and Fastify.
 */

@Controller()
class HealthController {
  @Get('healthz')
  health() {
    return { status: 'ok' };
  }
}

@Controller()
class SecretController {
  @Get('secret')
  secret() {
    return { secret: 'data' };
  }
}

interface Setup {
  controllers?: Type[];
  imports?: unknown[];
  options?: DaprAuthModuleOptions & { global?: boolean };
  configure?: (app: INestApplication) => void;
}

async function start(
  platform: PlatformFactory,
  setup: Setup,
): Promise<{ app: INestApplication; get: (path: string, headers?: Record<string, string>, method?: string) => Promise<number> }> {
  @Module({
    imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true, ...setup.options }), ...((setup.imports ?? []) as Type[])],
    controllers: setup.controllers ?? [HealthController],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, platform() as never, { logger: testLogger(['error', 'warn']), abortOnError: false });
  setup.configure?.(app as INestApplication);
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app.close();
    throw error;
  }
  const { port } = app.getHttpServer().address() as { port: number };
  return {
    app: app as INestApplication,
    get: async (path, headers = {}, method = 'GET') => (await send(`http://127.0.0.1:${port}`, path, { method, headers })).status,
  };
}

describe.each(HTTP_PLATFORMS)("daprd's health probe, decided from the paths Nest serves (%s)", (_name, platform) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const run = async (setup: Setup) => {
    const started = await start(platform, setup);
    app = started.app;
    return started.get;
  };

  it('baseline: GET /healthz passes without a token, GET /secret does not', async () => {
    const get = await run({ controllers: [HealthController, SecretController] });
    expect(await get('/healthz')).toBe(200);
    expect(await get('/secret')).toBe(401);
  });

  it('a global prefix moves the route: /api/healthz is checked like any route, and a warning names the fix', async () => {
    const before = capturedOutput().length;
    const get = await run({ configure: (created) => created.setGlobalPrefix('api') });
    expect(await get('/api/healthz')).toBe(401);
    expect(await get('/api/healthz', { 'dapr-api-token': TOKEN })).toBe(200);
    expect(capturedOutput().slice(before)).toMatch(
      /No route serves GET \/healthz[^\n]*\n\s+- GET \/api\/healthz is served with a prefix[^\n]*set healthCheckPath[^\n]*\/api\/healthz/,
    );
  });

  it('with healthCheckPath set to the prefixed path, that route passes without a token', async () => {
    const get = await run({ options: { healthCheckPath: '/api/healthz' }, configure: (created) => created.setGlobalPrefix('api') });
    expect(await get('/api/healthz')).toBe(200);
  });

  it('a health route excluded from the global prefix passes at /healthz', async () => {
    const get = await run({
      controllers: [HealthController, SecretController],
      configure: (created) => created.setGlobalPrefix('api', { exclude: ['healthz'] }),
    });
    expect(await get('/healthz')).toBe(200);
    expect(await get('/api/secret')).toBe(401);
  });

  it('a module mounted by RouterModule: GET /internal/healthz is not the probe', async () => {
    @Module({ controllers: [HealthController] })
    class InternalModule {}
    const get = await run({ controllers: [], imports: [InternalModule, RouterModule.register([{ path: 'internal', module: InternalModule }])] });
    expect(await get('/internal/healthz')).toBe(401);
    expect(await get('/internal/healthz', { 'dapr-api-token': TOKEN })).toBe(200);
  });

  it('an unguarded GET healthz under RouterModule is open, so unprotected: error refuses to start, naming the full path', async () => {
    @Module({ controllers: [HealthController] })
    class InternalModule {}
    const starting = run({
      controllers: [],
      imports: [InternalModule, RouterModule.register([{ path: 'internal', module: InternalModule }])],
      options: { global: false, unprotected: 'error' },
    });
    await expect(starting).rejects.toThrow(DaprAuthConfigError);
    await expect(starting).rejects.toThrow(/- GET \/internal\/healthz\n/);
  });

  describe('header versioning: the client cannot pick which /healthz handler skips the token', () => {
    @Controller()
    class VersionedHealthController {
      @Get('healthz')
      @Version(VERSION_NEUTRAL)
      health() {
        return { status: 'ok' };
      }

      @Get('healthz')
      @Version('2')
      detailed() {
        return { internals: 'secret' };
      }
    }
    const versioned = (created: INestApplication) => created.enableVersioning({ type: VersioningType.HEADER, header: 'x-api-version' });

    it('no version: the neutral handler, without a token; version 2 never reaches the versioned handler without one', async () => {
      const get = await run({ controllers: [VersionedHealthController], configure: versioned });
      expect(await get('/healthz')).toBe(200);
      // Fastify routes version 2 to the versioned handler (checked: 401); Express serves a
      // VERSION_NEUTRAL handler registered first for every version (the probe handler's answer).
      const { port } = app!.getHttpServer().address() as { port: number };
      const answer = await send(`http://127.0.0.1:${port}`, '/healthz', { headers: { 'x-api-version': '2' } });
      expect(answer.body).not.toContain('internals');
      expect(answer.status === 401 || (answer.json as { status?: string }).status === 'ok').toBe(true);
    });

    it('a defaultVersion makes the unmarked handler versioned: checked, with a warning', async () => {
      const before = capturedOutput().length;
      const get = await run({
        configure: (created) => created.enableVersioning({ type: VersioningType.HEADER, header: 'x-api-version', defaultVersion: '1' }),
      });
      expect(await get('/healthz', { 'x-api-version': '1' })).toBe(401);
      expect(capturedOutput().slice(before)).toMatch(/- GET \/healthz: versioned, and daprd's probe sends no version/);
    });
  });

  it('URI versioning: /v1/healthz is checked, a VERSION_NEUTRAL /healthz is the probe', async () => {
    @Controller()
    class UriHealthController {
      @Get('healthz')
      @Version('1')
      v1() {
        return { v: 1 };
      }

      @Get('healthz')
      @Version(VERSION_NEUTRAL)
      neutral() {
        return { status: 'ok' };
      }
    }
    const get = await run({ controllers: [UriHealthController], configure: (created) => created.enableVersioning({ type: VersioningType.URI }) });
    expect(await get('/v1/healthz')).toBe(401);
    expect(await get('/healthz')).toBe(200);
  });

  it('a handler also served at another path is checked at both, with a warning', async () => {
    @Controller()
    class TwoPathsController {
      @Get(['healthz', 'status'])
      health() {
        return { status: 'ok' };
      }
    }
    const before = capturedOutput().length;
    const get = await run({ controllers: [TwoPathsController] });
    expect(await get('/status')).toBe(401);
    expect(await get('/healthz')).toBe(401);
    expect(capturedOutput().slice(before)).toMatch(/- GET \/healthz: its handler is also served at GET \/status/);
  });

  it('an @All() probe handler: GET and HEAD pass without a token, POST is checked', async () => {
    @Controller()
    class AllHealthController {
      @All('healthz')
      health() {
        return { status: 'ok' };
      }
    }
    const get = await run({ controllers: [AllHealthController] });
    expect(await get('/healthz')).toBe(200);
    expect(await get('/healthz', {}, 'HEAD')).toBe(200);
    expect(await get('/healthz', {}, 'POST')).toBe(401);
  });

  describe('a probe handler inherited by another controller (outside review A)', () => {
    class ListBase {
      @Get()
      list(): unknown {
        return (this as unknown as { items(): unknown }).items();
      }
    }
    @Controller('healthz')
    class HealthListController extends ListBase {
      items() {
        return { status: 'up' };
      }
    }
    @DaprProtected()
    @Controller('orders')
    class OrdersListController extends ListBase {
      items() {
        return [{ order: 1 }];
      }
    }

    it.each([
      ['health first', [HealthListController, OrdersListController]],
      ['orders first', [OrdersListController, HealthListController]],
    ])('%s: /orders is never exempt, and the shared handler is checked at /healthz too, with a warning', async (_order, controllers) => {
      const before = capturedOutput().length;
      const get = await run({ controllers, options: { unprotected: 'error' } });
      expect(await get('/orders')).toBe(401);
      expect(await get('/healthz')).toBe(401);
      expect(await get('/orders', { 'dapr-api-token': TOKEN })).toBe(200);
      expect(capturedOutput().slice(before)).toMatch(/- GET \/(healthz|orders): its handler is also served at GET \/(orders|healthz)/);
    });
  });

  describe('an explicit rule on the probe handler contradicts the exemption: start-up refuses it', () => {
    @Controller()
    class ProtectedHealthController {
      @Get('healthz')
      @DaprProtected()
      health() {
        return { status: 'ok' };
      }
    }
    @Controller()
    class CallersHealthController {
      @Get('healthz')
      @DaprCallers('checkout')
      health() {
        return { status: 'ok' };
      }
    }

    it.each([
      ['@DaprProtected()', ProtectedHealthController],
      ['@DaprCallers()', CallersHealthController],
    ])('%s on the method', async (_rule, controller) => {
      const starting = run({ controllers: [controller], options: { allowForgeableCallers: true } });
      await expect(starting).rejects.toThrow(DaprAuthConfigError);
      await expect(starting).rejects.toThrow(/which daprd calls WITHOUT a token[^\n]*\n\s+- GET \/healthz\nFix: remove the decorator/);
    });

    it('a class-level @DaprProtected() is the general rule: the probe handler still passes without a token', async () => {
      @DaprProtected()
      @Controller()
      class GuardedController {
        @Get('healthz')
        health() {
          return { status: 'ok' };
        }

        @Get('secret')
        secret() {
          return {};
        }
      }
      const get = await run({ controllers: [GuardedController], options: { global: false } });
      expect(await get('/healthz')).toBe(200);
      expect(await get('/secret')).toBe(401);
    });
  });
});

describe("daprd's token-less gRPC calls with a rule on the method", () => {
  it('@DaprProtected() on AppCallbackHealthCheck/HealthCheck refuses start-up', async () => {
    @Controller()
    class HealthCheckController {
      @GrpcMethod('AppCallbackHealthCheck', 'HealthCheck')
      @DaprProtected()
      healthCheck() {
        return {};
      }
    }
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN })], controllers: [HealthCheckController] })
    class GrpcModule {}
    const creating = NestFactory.createApplicationContext(GrpcModule, { logger: testLogger([]), abortOnError: false });
    await expect(creating).rejects.toThrow(/token-less gRPC calls[^\n]*\n\s+- AppCallbackHealthCheck\/HealthCheck/);
  });
});
