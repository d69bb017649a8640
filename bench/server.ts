// One benchmark target: `node bench/dist/bench/server.js <express|fastify|grpc> <variant> <port>`.
// Every variant serves the same route (GET /orders/1, or gRPC AppCallback/OnInvoke) with the same
// handler; only the guard differs:
//   none         no guard (the baseline)
//   noop         a guard that returns true: what any Nest guard costs, the floor for accepting
//   throw        a guard that throws one ready-made 401 (RpcException 16 for gRPC), optimised by V8: the floor for rejecting
//   dapr         DaprAuthGuard (global: true, logRejections: false); the client sends the right token, or a wrong one
//   dapr-logged  the same with the default rejection log (Nest's console logger, on stdout)
//   passport     @nestjs/passport + passport-headerapikey checking the same header (the usual alternative)
import 'reflect-metadata';
import { type CanActivate, Controller, type ExecutionContext, Get, Injectable, Module, type ModuleMetadata, UnauthorizedException } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { GrpcMethod, type MicroserviceOptions, RpcException, Transport } from '@nestjs/microservices';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DaprAuthModule } from 'nestjs-dapr-auth';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';
import { APP_CALLBACK_PROTO, DAPR_PROTO_LOADER_OPTIONS } from '../src/dapr-protos.js';
import { BENCH_TOKEN } from './bench-token.js';

const [target, variant, port] = process.argv.slice(2);

@Controller('orders')
class OrdersController {
  @Get(':id')
  get() {
    return { id: '1', item: 'tea', quantity: 2 };
  }
}

@Controller()
class AppCallbackController {
  @GrpcMethod('AppCallback', 'OnInvoke')
  onInvoke() {
    return { data: { typeUrl: '', value: Buffer.from('{"id":"1","item":"tea","quantity":2}') }, contentType: 'application/json' };
  }
}

@Injectable()
class NoopGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

/** Made once: the cheapest rejection Nest can answer, with the same answer DaprAuthGuard gives. */
const READY_UNAUTHORIZED = new UnauthorizedException();
const READY_UNAUTHENTICATED = new RpcException({ code: 16, message: 'Unauthorized' });

/** The context the throwing guard lets through: only its own warm-up passes it. */
const WARM_UP_PASS = { getType: () => 'http' } as unknown as ExecutionContext;
const WARM_UP_FAIL = { getType: () => 'http' } as unknown as ExecutionContext;

@Injectable()
class ThrowingGuard implements CanActivate {
  constructor() {
    // A function that never returns stays unoptimised in V8 and reads as a slower floor than the
    // throwing guard an app would have: this one returns on half of its warm-up calls.
    for (let i = 0; i < 20_000; i++) {
      try {
        this.canActivate(i % 2 === 0 ? WARM_UP_PASS : WARM_UP_FAIL);
      } catch {
        // the half that throws
      }
    }
  }

  canActivate(context: ExecutionContext): boolean {
    if (context === WARM_UP_PASS) return true;
    throw context.getType() === 'rpc' ? READY_UNAUTHENTICATED : READY_UNAUTHORIZED;
  }
}

@Injectable()
class ApiKeyStrategy extends PassportStrategy(HeaderAPIKeyStrategy, 'api-key') {
  constructor() {
    super({ header: 'dapr-api-token', prefix: '' }, false);
  }

  validate(apiKey: string): boolean {
    if (apiKey === BENCH_TOKEN) return true;
    throw new UnauthorizedException();
  }
}

const guards: Record<string, ModuleMetadata> = {
  none: {},
  noop: { providers: [{ provide: APP_GUARD, useClass: NoopGuard }] },
  throw: { providers: [{ provide: APP_GUARD, useClass: ThrowingGuard }] },
  dapr: { imports: [DaprAuthModule.forRoot({ global: true, token: BENCH_TOKEN, logRejections: false })] },
  // The defaults, rejection log included: what a flood of bad tokens meets in a real app.
  'dapr-logged': { imports: [DaprAuthModule.forRoot({ global: true, token: BENCH_TOKEN })] },
  passport: { imports: [PassportModule], providers: [ApiKeyStrategy, { provide: APP_GUARD, useClass: AuthGuard('api-key') }] },
};
if (!guards[variant]) throw new Error(`unknown variant ${variant}`);

@Module({ ...guards[variant], controllers: [target === 'grpc' ? AppCallbackController : OrdersController] })
class BenchModule {}

// Nest's default logger for the logged variant, none for the others.
const logger = variant === 'dapr-logged' ? undefined : false;
if (target === 'grpc') {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(BenchModule, {
    transport: Transport.GRPC,
    options: { package: 'dapr.proto.runtime.v1', protoPath: APP_CALLBACK_PROTO, url: `127.0.0.1:${port}`, loader: DAPR_PROTO_LOADER_OPTIONS },
    logger,
  });
  await app.listen();
} else {
  const adapter = target === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(BenchModule, adapter, { logger });
  await app.listen(Number(port), '127.0.0.1');
}
process.stdout.write('READY\n');
// A clean exit on SIGINT, so that `node --cpu-prof bench/dist/bench/server.js …` writes its profile.
process.on('SIGINT', () => process.exit(0));
