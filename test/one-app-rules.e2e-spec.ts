import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { DiscoveryService, ModulesContainer, NestFactory } from '@nestjs/core';
import { GrpcMethod, type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import {
  DAPR_AUTH_MODULE_OPTIONS,
  DAPR_AUTH_RESOLVED_OPTIONS,
  DAPR_TOKEN_SOURCE,
  DAPR_TOKENLESS_GRPC_METHODS,
  resolveDaprAuthOptions,
  StaticTokenSource,
  DaprAuthConfigError,
  DaprAuthGuard,
  DaprAuthModule,
  DaprCallers,
  DaprProtected,
  DaprPublic,
  type DaprAuthModuleOptions,
} from 'nestjs-dapr-auth';
import { callUnary, grpcClient, grpcServerOptions, tokenMetadata } from './support/grpc.js';
import { testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { TOKEN } from './support/tokens.js';

/**
 * Issue 29, G4, G5, G7 and G10: one DaprAuthModule per app; the DAPR_API_TOKEN rule runs before
 * any server serves, in Nest's documented hybrid order, and a refusal is one clear error; a
 * start-up refused after a microservice started leaves nothing served; the module's own providers
 * are replaced only by Nest's testing overrides; WebSocket gateways count in the audit.
 */

@DaprProtected()
@Controller()
class CallbackController {
  @GrpcMethod('AppCallback', 'OnInvoke')
  onInvoke() {
    return { data: { typeUrl: '', value: Buffer.from('ok') }, contentType: 'text/plain' };
  }
}

@Controller()
class OpenHttpController {
  @Get('orders')
  list() {
    return [];
  }
}

async function onInvokeCode(address: string, token?: string): Promise<number> {
  const client = grpcClient('AppCallback', address);
  try {
    return (await callUnary(client, 'OnInvoke', { method: 'x' }, token === undefined ? tokenMetadata() : tokenMetadata(token))).code;
  } finally {
    client.close();
  }
}

describe('one DaprAuthModule per app (G4)', () => {
  it('a second forRoot() in a feature module refuses start-up, naming the importers and the fix', async () => {
    @Module({ imports: [DaprAuthModule.forRoot({ token: 'another-token-0123456789abcdefghijklmn' })], controllers: [OpenHttpController] })
    class FeatureModule {}
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true }), FeatureModule] })
    class RootModule {}
    const creating = NestFactory.create(RootModule, { logger: testLogger([]), abortOnError: false });
    await expect(creating).rejects.toThrow(DaprAuthConfigError);
    await expect(creating).rejects.toThrow(/imported 2 times in this app \(by RootModule, FeatureModule\)[^\n]*once, in the root module/);
  });
});

describe('one DaprAuthModule per app, whatever its class (outside review E)', () => {
  it('a subclass of DaprAuthModule in a feature module refuses start-up', async () => {
    class ReportingDaprAuth extends DaprAuthModule {}
    @Module({ imports: [ReportingDaprAuth.forRoot({ token: 'another-token-0123456789abcdefghijklmn', mode: 'report' })], controllers: [OpenHttpController] })
    class FeatureModule {}
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true }), FeatureModule] })
    class RootModule {}
    await expect(NestFactory.create(RootModule, { logger: testLogger([]), abortOnError: false })).rejects.toThrow(/imported 2 times in this app/);
  });
});

describe('the module providers only testing overrides replace (G7)', () => {
  it.each([
    ['the raw module options', DAPR_AUTH_MODULE_OPTIONS, { token: TOKEN, mode: 'report' }],
    ["Nest's DiscoveryService the module reads handlers from", DiscoveryService, { getControllers: () => [], getProviders: () => [] }],
    ['ModulesContainer', ModulesContainer, new Map()],
  ])('provideInjectionTokensFrom providing %s is refused (outside review F)', (_what, token, value) => {
    expect(() =>
      DaprAuthModule.forRootAsync({
        inject: [token as string],
        useFactory: () => ({ token: TOKEN }),
        provideInjectionTokensFrom: [{ provide: token as string, useValue: value }],
        global: true,
      }),
    ).toThrow(/provideInjectionTokensFrom provides [^\n]*which DaprAuthModule provides itself/);
  });

  it.each([
    ['DaprAuthGuard', DaprAuthGuard],
    ['the resolved options', DAPR_AUTH_RESOLVED_OPTIONS],
  ])('forRootAsync({ provideInjectionTokensFrom }) providing %s is refused', (_what, token) => {
    const forRootAsync = () =>
      DaprAuthModule.forRootAsync({
        inject: [token as string],
        useFactory: () => ({ token: TOKEN }),
        provideInjectionTokensFrom: [{ provide: token as string, useValue: { canActivate: () => true } }],
        global: true,
      });
    expect(forRootAsync).toThrow(DaprAuthConfigError);
    expect(forRootAsync).toThrow(/provideInjectionTokensFrom provides [^\n]*which DaprAuthModule provides itself[^\n]*overrideGuard\(DaprAuthGuard\)/);
  });

  it('providers of the app own (what the factory injects) are still taken', async () => {
    const CONFIG = 'APP_CONFIG';
    @Module({
      imports: [
        DaprAuthModule.forRootAsync({
          inject: [CONFIG],
          useFactory: (config: { token: string }) => ({ token: config.token }),
          provideInjectionTokensFrom: [{ provide: CONFIG, useValue: { token: TOKEN } }],
        }),
      ],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: testLogger([]), abortOnError: false });
    expect(app.get(DAPR_AUTH_RESOLVED_OPTIONS, { strict: false }).tokenSource.getTokens()).toHaveLength(1);
    await app.close();
  });
});

describe('the DAPR_API_TOKEN rule before any server, in the hybrid order (G5)', () => {
  const saved = process.env.DAPR_API_TOKEN;
  beforeEach(() => delete process.env.DAPR_API_TOKEN);
  afterAll(() => (saved === undefined ? delete process.env.DAPR_API_TOKEN : (process.env.DAPR_API_TOKEN = saved)));

  @Controller()
  class CallerRuledController {
    @GrpcMethod('AppCallback', 'OnInvoke')
    @DaprCallers('checkout')
    onInvoke() {
      return { data: { typeUrl: '', value: Buffer.from('ok') }, contentType: 'text/plain' };
    }
  }

  it('caller rules without DAPR_API_TOKEN refuse NestFactory.create itself: nothing can be connected or started', async () => {
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true })], controllers: [CallerRuledController] })
    class HybridModule {}
    const creating = NestFactory.create(HybridModule, { logger: testLogger([]), abortOnError: false });
    const error = (await creating.catch((caught: unknown) => caught)) as Error;
    expect(error).toBeInstanceOf(DaprAuthConfigError);
    expect(error.message).toMatch(/caller rules \(AppCallback\/OnInvoke[^\n]*DAPR_API_TOKEN is not set[^\n]*Fix:/);
    // One clear error: no stack frames into Nest's bootstrap.
    expect(error.stack).toBe(`DaprAuthConfigError: ${error.message}`);
  });

  it.each([
    ['NestFactory.create (HTTP, hybrid)', (module: object) => NestFactory.create(module as never, { logger: testLogger([]), abortOnError: false })],
    [
      'NestFactory.createMicroservice',
      async (module: object) =>
        NestFactory.createMicroservice<MicroserviceOptions>(module as never, {
          transport: Transport.GRPC,
          options: grpcServerOptions(`127.0.0.1:${await freePort()}`),
          logger: testLogger([]),
          abortOnError: false,
        }),
    ],
    [
      'NestFactory.createApplicationContext',
      (module: object) => NestFactory.createApplicationContext(module as never, { logger: testLogger([]), abortOnError: false }),
    ],
  ])('every way to build the app refuses before anything listens: %s', async (_way, build) => {
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true })], controllers: [CallerRuledController] })
    class AnyModule {}
    await expect(build(AnyModule)).rejects.toThrow(/DAPR_API_TOKEN is not set/);
  });

  it('a start-up refused at listen(), after startAllMicroservices(): the microservice refuses every call from then on', async () => {
    @Controller()
    class OpenCallbacksController {
      @GrpcMethod('AppCallbackHealthCheck', 'HealthCheck')
      healthCheck() {
        return {};
      }

      @GrpcMethod('AppCallback', 'ListInputBindings')
      @DaprPublic()
      listInputBindings() {
        return { bindings: [] };
      }
    }
    @Module({
      imports: [DaprAuthModule.forRoot({ token: TOKEN, unprotected: 'error' })],
      controllers: [CallbackController, OpenCallbacksController, OpenHttpController],
    })
    class HybridModule {}
    const app = await NestFactory.create(HybridModule, { logger: testLogger([]), abortOnError: false });
    const address = `127.0.0.1:${await freePort()}`;
    app.connectMicroservice<MicroserviceOptions>({ transport: Transport.GRPC, options: grpcServerOptions(address) });
    await app.startAllMicroservices();
    try {
      expect(await onInvokeCode(address, TOKEN)).toBe(0);
      const healthBefore = grpcClient('AppCallbackHealthCheck', address);
      expect((await callUnary(healthBefore, 'HealthCheck', {}, tokenMetadata())).code).toBe(0); // token-less, before the refusal
      healthBefore.close();
      await expect(app.listen(0, '127.0.0.1')).rejects.toThrow(/1 handler\(s\) without DaprAuthGuard[^\n]*\n\s+- GET \/orders\n/);
      expect(await onInvokeCode(address, TOKEN)).toBe(16);
      expect(await onInvokeCode(address)).toBe(16);
      // Every call, not only the guarded ones: daprd's health check and a @DaprPublic() handler too (outside review G).
      const health = grpcClient('AppCallbackHealthCheck', address);
      const callback = grpcClient('AppCallback', address);
      try {
        expect((await callUnary(health, 'HealthCheck', {}, tokenMetadata())).code).toBe(16);
        expect((await callUnary(callback, 'ListInputBindings', {}, tokenMetadata())).code).toBe(16);
      } finally {
        health.close();
        callback.close();
      }
    } finally {
      await (app as INestApplication).close();
    }
  });
});

describe('WebSocket gateways in the start-up audit (G10)', () => {
  @WebSocketGateway({ path: '/ws' })
  class OrdersGateway {
    @SubscribeMessage('orders')
    onOrder() {
      return 'ordered';
    }
  }

  @DaprProtected()
  @WebSocketGateway({ path: '/ws' })
  class ProtectedGateway {
    @SubscribeMessage('orders')
    onOrder() {
      return 'ordered';
    }
  }

  const create = (providers: unknown[], options: DaprAuthModuleOptions & { global?: boolean }) => {
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, ...options })], providers: providers as never[] })
    class GatewayModule {}
    return NestFactory.create(GatewayModule, { logger: testLogger([]), abortOnError: false });
  };

  it("an unguarded gateway handler counts for unprotected: 'error'", async () => {
    await expect(create([OrdersGateway], { unprotected: 'error' })).rejects.toThrow(/- WebSocket message "orders" \(OrdersGateway\.onOrder\)\n/);
  });

  it('a protected gateway, or global: true, starts', async () => {
    for (const [providers, options] of [
      [[ProtectedGateway], { unprotected: 'error' as const }],
      [[OrdersGateway], { unprotected: 'error' as const, global: true }],
    ] as const) {
      const app = await create([...providers], options);
      await app.close();
    }
  });
});

describe('a method that is an HTTP route and a gRPC method at once (outside review B)', () => {
  @Controller()
  class BothController {
    @Get('invoke')
    @GrpcMethod('AppCallback', 'OnInvoke')
    onInvoke() {
      return { data: { typeUrl: '', value: Buffer.from('ok') }, contentType: 'text/plain' };
    }
  }

  it('global: true checks it over both, in the hybrid order without inheritAppConfig', async () => {
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true, unprotected: 'error' })], controllers: [BothController] })
    class BothModule {}
    const app = await NestFactory.create(BothModule, { logger: testLogger([]), abortOnError: false });
    const address = `127.0.0.1:${await freePort()}`;
    app.connectMicroservice<MicroserviceOptions>({ transport: Transport.GRPC, options: grpcServerOptions(address) });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    try {
      expect(await onInvokeCode(address)).toBe(16);
      expect(await onInvokeCode(address, 'wrong-token-0123456789abcdefghijklmnopqr')).toBe(16);
      expect(await onInvokeCode(address, TOKEN)).toBe(0);
      const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/invoke`;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('without global, the audit lists it as a gRPC handler too', async () => {
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, unprotected: 'error' })], controllers: [BothController] })
    class BothModule {}
    await expect(NestFactory.create(BothModule, { logger: testLogger([]), abortOnError: false })).rejects.toThrow(
      /- AppCallback\/OnInvoke \(BothController\.onInvoke\)/,
    );
  });
});

describe('second re-check of the tarball (N1, N2, N4)', () => {
  @DaprProtected()
  @Controller('orders')
  class FeatureOrdersController {
    @Get()
    list() {
      return ['orders'];
    }
  }

  it.each([
    ['a token source', DAPR_TOKEN_SOURCE, new StaticTokenSource(['feature-token-0123456789abcdefghijklmno'])],
    ['the resolved options', DAPR_AUTH_RESOLVED_OPTIONS, {}],
  ])('a feature module that provides %s of its own refuses start-up (its route guards would use it)', async (_what, token, value) => {
    @Module({ controllers: [FeatureOrdersController], providers: [{ provide: token as string, useValue: value }] })
    class FeatureModule {}
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true }), FeatureModule] })
    class RootModule {}
    await expect(NestFactory.create(RootModule, { logger: testLogger([]), abortOnError: false })).rejects.toThrow(
      /FeatureModule provides DAPR_AUTH:\w+: only DaprAuthModule provides it/,
    );
  });

  it('an unknown option key shaped like a token is not echoed, and the message is bounded', () => {
    const key = `APP_API_TOKEN=${TOKEN}`;
    let message = '';
    try {
      DaprAuthModule.forRoot({ token: TOKEN, [key]: 1, ['k'.repeat(5000)]: 1 } as never);
      resolveDaprAuthOptions({ token: TOKEN, [key]: 1, ['k'.repeat(5000)]: 1 } as never);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('(a key not shown');
    expect(message).not.toContain(TOKEN.slice(0, 8));
    expect(message.length).toBeLessThan(2000);
  });

  it('the exported list of token-less gRPC methods cannot be widened', () => {
    expect(() => (DAPR_TOKENLESS_GRPC_METHODS as Set<string>).add('/dapr.proto.runtime.v1.AppCallback/OnInvoke')).toThrow(TypeError);
    expect(DAPR_TOKENLESS_GRPC_METHODS.has('/dapr.proto.runtime.v1.AppCallback/OnInvoke')).toBe(false);
  });
});
