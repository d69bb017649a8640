import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, type INestApplication, type INestMicroservice, Module, type Type, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, type MicroserviceOptions, Transport } from '@nestjs/microservices';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DaprAuthGuard, DaprAuthModule, DaprCallers, DaprProtected, DaprPublic } from 'nestjs-dapr-auth';
import { callUnary } from './support/grpc.js';
import { HTTP_PLATFORMS, send, testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { TOKEN } from './support/tokens.js';

/**
 * F1 of the trust issue: class-level rules must be read from the class Nest runs class-level
 * guards from, whatever the class shape. Every cell of {class shape} × {rule} × {global on, off,
 * hybrid} × {Express, Fastify, gRPC} is called without a token, with it, and (for @DaprCallers)
 * as the allowed app, another app and no app. A shape whose rule Nest would not see is refused at
 * start-up, for every rule, mode and transport.
 */
const RULES = ['none', '@DaprProtected()', '@UseGuards(DaprAuthGuard)', '@DaprPublic()', "@DaprCallers('checkout')"] as const;
type Rule = (typeof RULES)[number];

function ruleDecorator(rule: Rule): ClassDecorator | undefined {
  switch (rule) {
    case 'none':
      return undefined;
    case '@DaprProtected()':
      return DaprProtected();
    case '@UseGuards(DaprAuthGuard)':
      return UseGuards(DaprAuthGuard);
    case '@DaprPublic()':
      return DaprPublic();
    case "@DaprCallers('checkout')":
      return DaprCallers('checkout');
  }
}

/** A class decorator that returns a Proxy of the class (as some tracing and DI helpers do). */
function ProxyWrap(): ClassDecorator {
  return ((target: Type) => new Proxy(target, {})) as unknown as ClassDecorator;
}

/** The TypeScript handbook's applyMixins: copies every own property of the mixins' prototypes, `constructor` included. */
function applyMixins(derived: Type, mixins: Type[]): void {
  for (const mixin of mixins) {
    for (const name of Object.getOwnPropertyNames(mixin.prototype)) {
      Object.defineProperty(derived.prototype, name, Object.getOwnPropertyDescriptor(mixin.prototype, name) ?? Object.create(null));
    }
  }
}

function decorateMethods(prototype: object, id: string): void {
  for (const [key, route] of [
    ['http', Get()],
    ['rpc', GrpcMethod('Shapes', id)],
  ] as const) {
    const descriptor = Reflect.decorate([route], prototype, key, Object.getOwnPropertyDescriptor(prototype, key)!);
    Object.defineProperty(prototype, key, descriptor as PropertyDescriptor);
  }
}

function handlers(id: string, name = 'Handlers') {
  const Handlers = class {
    http() {
      return { id };
    }
    rpc() {
      return { id };
    }
  };
  Object.defineProperty(Handlers, 'name', { value: name });
  return Handlers;
}

const decorate = (decorators: Array<ClassDecorator | undefined>, target: Type | (abstract new () => unknown)): Type =>
  Reflect.decorate(
    decorators.filter((d) => d !== undefined),
    target,
  ) as Type;

/** Each shape builds one controller for `rule`, served at `GET /<id>` and gRPC `Shapes/<id>`. */
const SHAPES: Record<string, (rule: Rule, id: string) => Type> = {
  plain: (rule, id) => {
    const Plain = handlers(id);
    decorateMethods(Plain.prototype, id);
    return decorate([Controller(id), ruleDecorator(rule)], Plain);
  },
  subclass: (rule, id) => {
    const Parent = decorate([ruleDecorator(rule)], class {});
    const Child = class extends Parent {
      http() {
        return { id };
      }
      rpc() {
        return { id };
      }
    };
    decorateMethods(Child.prototype, id);
    return decorate([Controller(id)], Child);
  },
  'abstract base': (rule, id) => {
    abstract class Base {
      http() {
        return { id };
      }
      rpc() {
        return { id };
      }
    }
    decorateMethods(Base.prototype, id);
    decorate([ruleDecorator(rule)], Base);
    class Concrete extends Base {}
    return decorate([Controller(id)], Concrete);
  },
  // The rule below the Proxy decorator: on the Proxy, which Nest instantiates and reads.
  'Proxy decorator below the rule': (rule, id) => {
    const Wrapped = handlers(id);
    decorateMethods(Wrapped.prototype, id);
    return decorate([Controller(id), ruleDecorator(rule), ProxyWrap()], Wrapped);
  },
  applyMixins: (rule, id) => {
    const Mixin = handlers(id);
    decorateMethods(Mixin.prototype, id);
    class Mixed {}
    applyMixins(Mixed, [Mixin]);
    return decorate([Controller(id), ruleDecorator(rule)], Mixed);
  },
};

/** The rule on the wrapped class, the Proxy above it: Nest never sees the rule, so start-up must refuse. */
function proxyAboveTheRule(rule: Rule, id: string): Type {
  const Wrapped = handlers(id);
  decorateMethods(Wrapped.prototype, id);
  return decorate([Controller(id), ProxyWrap(), ruleDecorator(rule)], Wrapped);
}

const CELLS = Object.keys(SHAPES).flatMap((shape) => RULES.map((rule) => ({ shape, rule })));
const IDS = CELLS.map((_, i) => `Cell${i}`);
const CONTROLLERS = CELLS.map(({ shape, rule }, i) => SHAPES[shape](rule, IDS[i]));

const PROTO = join(mkdtempSync(join(tmpdir(), 'dapr-shapes-')), 'shapes.proto');
writeFileSync(
  PROTO,
  `syntax = "proto3";\npackage test.shapes;\nmessage Msg { string id = 1; }\nservice Shapes {\n${IDS.map((id) => `  rpc ${id} (Msg) returns (Msg);`).join('\n')}\n}\n`,
);
const grpcOptions = (url: string) => ({ transport: Transport.GRPC, options: { package: 'test.shapes', protoPath: PROTO, url } }) as MicroserviceOptions;

type Mode = 'global' | 'route' | 'hybrid';
const appModule = (mode: Mode, controllers: Type[]) => {
  @Module({
    // Global modes refuse to start if the audit finds anything open: it must agree with the guard.
    imports: [
      DaprAuthModule.forRoot({ token: TOKEN, global: mode !== 'route', unprotected: mode === 'route' ? 'ignore' : 'error', allowForgeableCallers: true }),
    ],
    controllers,
  })
  class ShapesModule {}
  return ShapesModule;
};

/** What each rule must answer, whatever the class shape. `open`: the handler has no rule and no global guard. */
function expected(rule: Rule, mode: Mode) {
  const open = rule === '@DaprPublic()' || (rule === 'none' && mode === 'route');
  return { open, callers: rule === "@DaprCallers('checkout')" };
}

interface Caller {
  call(id: string, token?: string, callerAppId?: string): Promise<'ok' | 'unauthenticated' | 'forbidden' | string>;
}

function httpCaller(baseUrl: string): Caller {
  return {
    async call(id, token, callerAppId) {
      const headers: Record<string, string> = {};
      if (token) headers['dapr-api-token'] = token;
      if (callerAppId) headers['dapr-caller-app-id'] = callerAppId;
      const { status } = await send(baseUrl, `/${id}`, { headers });
      return status === 200 ? 'ok' : status === 401 ? 'unauthenticated' : status === 403 ? 'forbidden' : `HTTP ${status}`;
    },
  };
}

function grpcCaller(client: any): Caller {
  return {
    async call(id, token, callerAppId) {
      const metadata = new grpc.Metadata();
      if (token) metadata.set('dapr-api-token', token);
      if (callerAppId) metadata.set('dapr-caller-app-id', callerAppId);
      const { code } = await callUnary(client, id, { id }, metadata);
      return code === 0 ? 'ok' : code === 16 ? 'unauthenticated' : code === 7 ? 'forbidden' : `gRPC ${code}`;
    },
  };
}

function grpcClientOf(address: string): any {
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO)) as any;
  return new loaded.test.shapes.Shapes(address, grpc.credentials.createInsecure());
}

const TRANSPORTS = [...HTTP_PLATFORMS.map(([name]) => name), 'gRPC'] as const;

describe.each(['global', 'route', 'hybrid'] as const)('class shapes, guard %s', (mode) => {
  describe.each(TRANSPORTS)('%s', (transport) => {
    let close: () => Promise<void>;
    let caller: Caller;

    beforeAll(async () => {
      const module = appModule(mode, CONTROLLERS);
      if (transport === 'gRPC' && mode !== 'hybrid') {
        const address = `127.0.0.1:${await freePort()}`;
        const app: INestMicroservice = await NestFactory.createMicroservice(module, { ...grpcOptions(address), logger: testLogger(), abortOnError: false });
        await app.listen();
        const client = grpcClientOf(address);
        caller = grpcCaller(client);
        close = async () => (client.close(), await app.close());
        return;
      }
      // Hybrid: an HTTP app (Express for the gRPC column) with gRPC connected without inheritAppConfig.
      const platform = (HTTP_PLATFORMS.find(([name]) => name === transport) ?? HTTP_PLATFORMS[0])[1];
      const app: INestApplication = await NestFactory.create(module, platform() as never, { logger: testLogger(), abortOnError: false });
      const address = `127.0.0.1:${await freePort()}`;
      if (mode === 'hybrid') {
        app.connectMicroservice(grpcOptions(address));
        await app.startAllMicroservices();
      }
      await app.listen(0, '127.0.0.1');
      const client = mode === 'hybrid' ? grpcClientOf(address) : undefined;
      caller = transport === 'gRPC' ? grpcCaller(client) : httpCaller(`http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`);
      close = async () => (client?.close(), await app.close());
    });
    afterAll(() => close?.());

    it.each(CELLS.map((cell, i) => ({ ...cell, id: IDS[i] })))('$shape, $rule', async ({ rule, id }) => {
      const { open, callers } = expected(rule, mode);
      expect(await caller.call(id)).toBe(open ? 'ok' : 'unauthenticated');
      expect(await caller.call(id, 'not-the-token')).toBe(open ? 'ok' : 'unauthenticated');
      expect(await caller.call(id, TOKEN, 'checkout')).toBe('ok');
      if (callers) {
        expect(await caller.call(id, TOKEN, 'intruder')).toBe('forbidden');
        expect(await caller.call(id, TOKEN)).toBe('forbidden');
      } else {
        expect(await caller.call(id, TOKEN)).toBe('ok');
      }
    });

    it.each(RULES.filter((rule) => rule !== 'none'))('a Proxy decorator above the rule %s: start-up refuses and says why', async (rule) => {
      const module = appModule(mode, [proxyAboveTheRule(rule, 'Refused')]);
      const created =
        transport === 'gRPC'
          ? NestFactory.createMicroservice(module, { ...grpcOptions(`127.0.0.1:${await freePort()}`), logger: false, abortOnError: false })
          : NestFactory.create(module, (HTTP_PLATFORMS.find(([name]) => name === transport) ?? HTTP_PLATFORMS[0])[1]() as never, {
              logger: false,
              abortOnError: false,
            });
      await expect(created).rejects.toThrow(/sits on a class Nest does not read guards from[\s\S]*put the rule above that class decorator/);
    });
  });
});

describe('class shapes a guard cannot tell apart', () => {
  it('two controllers mixing in the same class with different class-level rules: start-up refuses', async () => {
    const Mixin = handlers('Shared', 'Mixin');
    decorateMethods(Mixin.prototype, 'Shared');
    class Open {}
    class Guarded {}
    applyMixins(Open, [Mixin]);
    applyMixins(Guarded, [Mixin]);
    decorate([Controller('open'), DaprPublic()], Open);
    decorate([Controller('guarded'), DaprCallers('checkout')], Guarded);
    await expect(NestFactory.create(appModule('global', [Open as Type, Guarded as Type]), { logger: false, abortOnError: false })).rejects.toThrow(
      /controllers Open and Guarded share this method and the class a guard sees \(Mixin/,
    );
  });

  it('the same mixin with the same rules in two controllers starts, and both are protected', async () => {
    const Mixin = handlers('Same', 'Mixin');
    decorateMethods(Mixin.prototype, 'Same');
    class First {}
    class Second {}
    applyMixins(First, [Mixin]);
    applyMixins(Second, [Mixin]);
    decorate([Controller('first'), DaprCallers('checkout')], First);
    decorate([Controller('second'), DaprCallers('checkout')], Second);
    const app = await NestFactory.create(appModule('global', [First as Type, Second as Type]), { logger: testLogger(), abortOnError: false });
    await app.listen(0, '127.0.0.1');
    const caller = httpCaller(`http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`);
    try {
      for (const path of ['first', 'second']) {
        expect(await caller.call(path)).toBe('unauthenticated');
        expect(await caller.call(path, TOKEN, 'intruder')).toBe('forbidden');
        expect(await caller.call(path, TOKEN, 'checkout')).toBe('ok');
      }
    } finally {
      await app.close();
    }
  });
});
