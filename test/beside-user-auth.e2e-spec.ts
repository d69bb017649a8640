import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Inject,
  Injectable,
  type INestApplication,
  Module,
  type Type,
  UseGuards,
} from '@nestjs/common';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { GrpcMethod, type MicroserviceOptions, Transport } from '@nestjs/microservices';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import {
  DaprAuthConfigError,
  DaprAuthGuard,
  DaprAuthModule,
  type DaprAuthRule,
  DaprAuthRules,
  DaprAuthStatus,
  DaprOrAppGuard,
  DaprProtected,
  DaprPublic,
  daprOr,
} from 'nestjs-dapr-auth';
import { callUnary, tokenMetadata } from './support/grpc.js';
import { HTTP_PLATFORMS, send, startHttpApp, testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { capturedOutput } from './support/secrets.js';
import { signingKey, type SigningKey } from './support/jwt.js';
import { TOKEN, WRONG_TOKEN } from './support/tokens.js';

/**
 * docs/beside-user-auth.md, walked in full: the module beside a real `@nestjs/passport` +
 * `passport-jwt` guard, composed with `daprOr()`, as APP_GUARD and per controller, with the Dapr
 * guard global or not, over Express and Fastify. Every cell of
 * {no, wrong, right Dapr token} × {no, bad, good user JWT} × {the handler's rule} has its
 * expected answer, and nothing passes that neither check accepts.
 */

const RULES = ['dapr', 'dapr-or-app-guard', 'public', 'none'] as const;
type Rule = (typeof RULES)[number];
const DAPR = ['none', 'wrong', 'right'] as const;
const USER = ['none', 'bad', 'good'] as const;

/** The rule the guide states. */
function expectedPass(rule: Rule, global: boolean, dapr: (typeof DAPR)[number], user: (typeof USER)[number]): boolean {
  const daprOk = dapr === 'right';
  const userOk = user === 'good';
  switch (rule) {
    case 'dapr':
      return daprOk;
    case 'dapr-or-app-guard':
      return daprOk || userOk;
    case 'public':
      return userOk;
    case 'none':
      return global ? daprOk : userOk;
  }
}

let userKey: SigningKey;
let otherKey: SigningKey;
let goodJwt: string;
let badJwt: string;

beforeAll(async () => {
  userKey = await signingKey('HS256', 'user-key');
  otherKey = await signingKey('HS256', 'user-key');
  goodJwt = await userKey.sign({ sub: 'alice' });
  badJwt = await otherKey.sign({ sub: 'mallory' });
});

function jwtStrategy(): Type<unknown> {
  const secret = (userKey.keySource as { secret: string }).secret;
  @Injectable()
  class JwtStrategy extends PassportStrategy(Strategy) {
    constructor() {
      super({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: secret, algorithms: ['HS256'] });
    }
    validate(payload: { sub: string }) {
      return { user: payload.sub };
    }
  }
  return JwtStrategy;
}

/** The app's user guard, as apps write it. */
@Injectable()
class JwtAuthGuard extends AuthGuard('jwt') {}

const ComposedJwtGuard = daprOr(JwtAuthGuard);

type Placement = 'APP_GUARD' | 'route';

function appModule(global: boolean, placement: Placement) {
  const classGuards = placement === 'route' ? [UseGuards(ComposedJwtGuard)] : [];
  @Controller('r')
  class RulesController {
    @Get('dapr')
    @DaprProtected()
    dapr() {
      return { handler: 'dapr' };
    }
    @Get('dapr-or-app-guard')
    @DaprOrAppGuard()
    either() {
      return { handler: 'dapr-or-app-guard' };
    }
    @Get('public')
    @DaprPublic()
    open() {
      return { handler: 'public' };
    }
    @Get('none')
    none() {
      return { handler: 'none' };
    }
  }
  Reflect.decorate(classGuards, RulesController);
  @Module({
    imports: [DaprAuthModule.forRoot({ token: TOKEN, global, unprotected: 'ignore' }), PassportModule],
    controllers: [RulesController],
    providers: [jwtStrategy(), ...(placement === 'APP_GUARD' ? [{ provide: APP_GUARD, useClass: ComposedJwtGuard }] : [])],
  })
  class AppModule {}
  return AppModule;
}

function headers(dapr: (typeof DAPR)[number], user: (typeof USER)[number]): Record<string, string> {
  return {
    ...(dapr === 'none' ? {} : { 'dapr-api-token': dapr === 'right' ? TOKEN : WRONG_TOKEN }),
    ...(user === 'none' ? {} : { authorization: `Bearer ${user === 'good' ? goodJwt : badJwt}` }),
  };
}

const CELLS = RULES.flatMap((rule) => DAPR.flatMap((dapr) => USER.map((user) => ({ rule, dapr, user }))));

describe.each(HTTP_PLATFORMS)('beside a passport-jwt guard on %s', (_name, platform) => {
  describe.each([
    { global: true, placement: 'APP_GUARD' as const },
    { global: false, placement: 'APP_GUARD' as const },
    { global: true, placement: 'route' as const },
    { global: false, placement: 'route' as const },
  ])('global: $global, daprOr(JwtAuthGuard) as $placement', ({ global, placement }) => {
    let app: INestApplication;
    let baseUrl: string;
    beforeAll(async () => {
      ({ app, baseUrl } = await startHttpApp(appModule(global, placement), platform));
    });
    afterAll(() => app.close());

    it('answers every cell as the guide says, and nothing passes that neither check accepts', async () => {
      const wrong: string[] = [];
      for (const { rule, dapr, user } of CELLS) {
        const pass = expectedPass(rule, global, dapr, user);
        const res = await send(baseUrl, `/r/${rule}`, { headers: headers(dapr, user) });
        const ok = pass ? res.status === 200 && (res.json as { handler?: string })?.handler === rule : res.status === 401;
        if (!ok) wrong.push(`${rule} dapr=${dapr} jwt=${user}: got ${res.status}, expected ${pass ? 200 : 401}`);
      }
      expect(wrong).toEqual([]);
    });

    it('counts a @DaprOrAppGuard() request as accepted (Dapr) or deferred (left to the JWT guard), never as rejected', async () => {
      const status = app.get(DaprAuthStatus);
      const before = { ...status.decisions };
      expect((await send(baseUrl, '/r/dapr-or-app-guard', { headers: headers('right', 'none') })).status).toBe(200);
      expect((await send(baseUrl, '/r/dapr-or-app-guard', { headers: headers('none', 'good') })).status).toBe(200);
      expect((await send(baseUrl, '/r/dapr-or-app-guard', { headers: headers('wrong', 'none') })).status).toBe(401);
      const after = status.decisions;
      expect(after.accepted - before.accepted).toBe(1);
      expect(after.deferred - before.deferred).toBe(2);
      expect(after.rejected - before.rejected).toBe(0);
    });
  });
});

describe('DaprAuthRules, asked by a guard of your own', () => {
  const seen: { rule: DaprAuthRule | undefined; decidedByDapr: boolean; verified: boolean }[] = [];

  /** Runs after DaprAuthGuard (method level, after it): records what the rules say. */
  @Injectable()
  class Probe implements CanActivate {
    constructor(@Inject(DaprAuthRules) private readonly rules: DaprAuthRules) {}
    canActivate(context: ExecutionContext): boolean {
      seen.push({ rule: this.rules.ruleOf(context), decidedByDapr: this.rules.decidedByDapr(context), verified: this.rules.isVerifiedDaprCall(context) });
      return true;
    }
  }

  @Controller('p')
  class ProbeController {
    @Get('dapr')
    @UseGuards(DaprAuthGuard, Probe)
    dapr() {
      return {};
    }
    @Get('public')
    @DaprPublic()
    @UseGuards(Probe)
    open() {
      return {};
    }
    @Get('none')
    @UseGuards(Probe)
    none() {
      return {};
    }
  }

  let app: INestApplication;
  let baseUrl: string;
  beforeAll(async () => {
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, unprotected: 'ignore' })], controllers: [ProbeController], providers: [Probe] })
    class ProbeModule {}
    ({ app, baseUrl } = await startHttpApp(ProbeModule, HTTP_PLATFORMS[0][1]));
  });
  afterAll(() => app.close());

  it("reads each handler's rule, and whether this request was verified as coming from daprd", async () => {
    seen.length = 0;
    expect((await send(baseUrl, '/p/dapr', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    expect((await send(baseUrl, '/p/public', { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
    expect((await send(baseUrl, '/p/none')).status).toBe(200);
    expect(seen).toEqual([
      { rule: 'dapr', decidedByDapr: true, verified: true },
      // @DaprPublic(): the Dapr check let it through without verifying anything.
      { rule: 'public', decidedByDapr: false, verified: false },
      { rule: undefined, decidedByDapr: false, verified: false },
    ]);
  });
});

describe('start-up', () => {
  it('refuses a @DaprOrAppGuard() handler that no daprOr() guard covers (it would be open)', async () => {
    @Controller('x')
    class UncoveredController {
      @Get()
      @DaprOrAppGuard()
      either() {
        return {};
      }
    }
    @Module({ imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true })], controllers: [UncoveredController] })
    class UncoveredModule {}
    await expect(NestFactory.create(UncoveredModule, { logger: testLogger([]), abortOnError: false })).rejects.toThrow(DaprAuthConfigError);
    await expect(NestFactory.create(UncoveredModule, { logger: testLogger([]), abortOnError: false })).rejects.toThrow(/daprOr\(/);
  });

  it("daprOr() as APP_GUARD: unprotected: 'error' starts (every HTTP route is checked by one or the other), and daprd's probe passes it", async () => {
    @Controller()
    class UserAppController {
      @Get('healthz')
      health() {
        return { status: 'up' };
      }
      @Get('me')
      me() {
        return { user: true };
      }
    }
    @Module({
      imports: [DaprAuthModule.forRoot({ token: TOKEN, unprotected: 'error' }), PassportModule],
      controllers: [UserAppController],
      providers: [jwtStrategy(), { provide: APP_GUARD, useClass: ComposedJwtGuard }],
    })
    class UserAppModule {}
    for (const [, platform] of HTTP_PLATFORMS) {
      const { app, baseUrl } = await startHttpApp(UserAppModule, platform);
      try {
        // daprd's token-less probe: the Dapr check lets it through, so the composed guard steps aside too.
        expect((await send(baseUrl, '/healthz')).status).toBe(200);
        expect((await send(baseUrl, '/healthz', { method: 'POST' })).status).not.toBe(200);
        expect((await send(baseUrl, '/me')).status).toBe(401);
        expect((await send(baseUrl, '/me', { headers: headers('right', 'none') })).status).toBe(401);
        expect((await send(baseUrl, '/me', { headers: headers('none', 'good') })).status).toBe(200);
      } finally {
        await app.close();
      }
    }
  });

  it('in report-only mode a daprOr() guard does not step aside on Dapr-only handlers (nothing opens)', async () => {
    @Controller('d')
    class DaprOnlyController {
      @Get()
      @DaprProtected()
      dapr() {
        return {};
      }
    }
    @Module({
      imports: [DaprAuthModule.forRoot({ token: TOKEN, mode: 'report' }), PassportModule],
      controllers: [DaprOnlyController],
      providers: [jwtStrategy(), { provide: APP_GUARD, useClass: ComposedJwtGuard }],
    })
    class ReportModule {}
    const { app, baseUrl } = await startHttpApp(ReportModule, HTTP_PLATFORMS[0][1]);
    try {
      expect((await send(baseUrl, '/d', { headers: headers('wrong', 'none') })).status).toBe(401);
      expect((await send(baseUrl, '/d', { headers: headers('wrong', 'good') })).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('what operators see', () => {
  /** A reader the test collects from on demand (the SDK's own base class, no exporter). */
  class TestReader extends MetricReader {
    protected async onForceFlush(): Promise<void> {}
    protected async onShutdown(): Promise<void> {}
  }

  it("tells 'accepted as Dapr' from 'left to the other guard' in the metrics and the debug log, never as a rejection", async () => {
    const reader = new TestReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    @Controller('m')
    class MetricsController {
      @Get()
      @DaprOrAppGuard()
      either() {
        return {};
      }
    }
    @Module({
      imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true, metrics: { meterProvider } }), PassportModule],
      controllers: [MetricsController],
      providers: [jwtStrategy(), { provide: APP_GUARD, useClass: ComposedJwtGuard }],
    })
    class MetricsModule {}
    const app = await NestFactory.create(MetricsModule, { logger: testLogger(['fatal', 'error', 'warn', 'debug']), abortOnError: false });
    await app.listen(0, '127.0.0.1');
    const baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const before = capturedOutput().length;
    try {
      expect((await send(baseUrl, '/m', { headers: headers('right', 'none') })).status).toBe(200);
      expect((await send(baseUrl, '/m', { headers: headers('none', 'good') })).status).toBe(200);
      expect((await send(baseUrl, '/m', { headers: headers('wrong', 'bad') })).status).toBe(401);
      const { resourceMetrics } = await reader.collect();
      const points: Record<string, number> = {};
      for (const metric of resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)) {
        if (metric.descriptor.name !== 'dapr.auth.decisions') continue;
        for (const point of metric.dataPoints) {
          const attrs = Object.entries(point.attributes)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, value]) => `${key}=${String(value)}`)
            .join(',');
          points[attrs] = point.value as number;
        }
      }
      expect(points).toEqual({
        'dapr.auth.outcome=accepted,dapr.auth.transport=http': 1,
        'dapr.auth.outcome=deferred,dapr.auth.reason=missing,dapr.auth.transport=http': 1,
        'dapr.auth.outcome=deferred,dapr.auth.reason=mismatch,dapr.auth.transport=http': 1,
      });
      const output = capturedOutput().slice(before);
      expect(output).toMatch(/Left to the app's own guard \(not a verified Dapr call: missing\): HTTP GET \/m/);
      expect(output).toMatch(/Left to the app's own guard \(not a verified Dapr call: mismatch\): HTTP GET \/m/);
      expect(output).not.toMatch(/Rejected HTTP/);
    } finally {
      await app.close();
      await meterProvider.shutdown();
    }
  });
});

describe('gRPC handlers', () => {
  const protoDir = mkdtempSync(join(tmpdir(), 'dapr-beside-'));
  const PROTO = join(protoDir, 'beside.proto');
  writeFileSync(PROTO, 'syntax = "proto3";\npackage test.beside;\nmessage Msg { string text = 1; }\nservice Beside {\n  rpc Either (Msg) returns (Msg);\n}\n');

  /** A guard of the app's own for gRPC: a metadata value `user-key: letmein`. */
  @Injectable()
  class UserKeyGuard implements CanActivate {
    canActivate(context: ExecutionContext): boolean {
      const metadata = context.switchToRpc().getContext<grpc.Metadata>();
      return metadata.get('user-key')[0] === 'letmein';
    }
  }

  function grpcModule(perHandler: boolean) {
    @Controller()
    class BesideController {
      @GrpcMethod('Beside', 'Either')
      @DaprOrAppGuard()
      either(data: { text: string }) {
        return data;
      }
    }
    if (perHandler) Reflect.decorate([UseGuards(daprOr(UserKeyGuard))], BesideController);
    @Module({
      imports: [DaprAuthModule.forRoot({ token: TOKEN, global: true })],
      controllers: [BesideController],
      providers: perHandler ? [] : [{ provide: APP_GUARD, useClass: daprOr(UserKeyGuard) }],
    })
    class GrpcModule {}
    return GrpcModule;
  }

  it('a daprOr() guard as APP_GUARD does not count for message handlers: start-up refuses', async () => {
    await expect(
      NestFactory.createMicroservice<MicroserviceOptions>(grpcModule(false), {
        transport: Transport.GRPC,
        options: { package: 'test.beside', protoPath: PROTO, url: `127.0.0.1:${await freePort()}` },
        logger: testLogger([]),
        abortOnError: false,
      }),
    ).rejects.toThrow(/required for message and gRPC handlers/);
  });

  it('@UseGuards(daprOr(...)) on the controller: a verified Dapr call or the app guard, nothing else', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(grpcModule(true), {
      transport: Transport.GRPC,
      options: { package: 'test.beside', protoPath: PROTO, url: address },
      logger: testLogger(),
      abortOnError: false,
    });
    await app.listen();
    const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO)) as any;
    const client = new loaded.test.beside.Beside(address, grpc.credentials.createInsecure());
    const withUserKey = (metadata: grpc.Metadata, key: string) => {
      metadata.set('user-key', key);
      return metadata;
    };
    try {
      expect((await callUnary(client, 'Either', { text: 'x' }, tokenMetadata(TOKEN))).code).toBe(0);
      expect((await callUnary(client, 'Either', { text: 'x' }, withUserKey(tokenMetadata(), 'letmein'))).code).toBe(0);
      expect((await callUnary(client, 'Either', { text: 'x' }, withUserKey(tokenMetadata(WRONG_TOKEN), 'nope'))).code).not.toBe(0);
      expect((await callUnary(client, 'Either', { text: 'x' }, tokenMetadata())).code).not.toBe(0);
    } finally {
      client.close();
      await app.close();
    }
  });
});
