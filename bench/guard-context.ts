// A real DaprAuthGuard from a real Nest application context, and hand-made HTTP, GraphQL and gRPC
// execution contexts for it (what Nest builds per request; its own cost is not the guard's).
import 'reflect-metadata';
import { Metadata } from '@grpc/grpc-js';
import { type CanActivate, Controller, Get, type ExecutionContext, Module, type Type } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer, NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { GrpcMethod } from '@nestjs/microservices';
import { DaprAuthGuard, DaprAuthModule, DaprCallers, DaprPublic, type DaprAuthModuleOptions } from 'nestjs-dapr-auth';
import { BENCH_TOKEN } from './bench-token.js';

@Controller('orders')
class OrdersController {
  @Get(':id')
  get() {
    return {};
  }

  @Get('healthz')
  @DaprPublic()
  health() {
    return {};
  }
}

/** A previous token still accepted, as during a rotation's grace period (tokenFile). */
export const PREVIOUS_BENCH_TOKEN = 'bench-token-previous-Zx9Wv8Ut7Sr6Qp5On4Ml3Kj';

/** A controller whose one handler allows `count` caller apps (`app-0` … `app-<count-1>`). */
export function callersController(count: number): Type {
  @Controller(`callers-${count}`)
  class CallersController {
    @Get()
    @DaprCallers(...Array.from({ length: count }, (_, i) => `app-${i}`))
    get() {
      return {};
    }
  }
  return CallersController;
}

/** `count` controllers of one route each: an app with that many routes. */
export function manyRoutes(count: number): Type[] {
  return Array.from({ length: count }, (_, i) => {
    @Controller(`r${i}`)
    class RouteController {
      @Get()
      get() {
        return {};
      }
    }
    return RouteController;
  });
}

/**
 * A real guard; `tokens` are the accepted tokens (one by default, two as during a rotation), or
 * module options (JWT mode, metrics...). `logRejections: false` unless the options say otherwise.
 */
export async function createGuard(
  tokens: string[] | DaprAuthModuleOptions = [BENCH_TOKEN],
  controllers: Type[] = [OrdersController],
): Promise<{ guard: CanActivate; close: () => Promise<void> }> {
  const options: DaprAuthModuleOptions = Array.isArray(tokens) ? { token: tokens } : tokens;
  @Module({ imports: [DaprAuthModule.forRoot({ logRejections: false, allowForgeableCallers: true, ...options })], controllers })
  class GuardModule {}
  const app = await NestFactory.createApplicationContext(GuardModule, { logger: false });
  return { guard: app.get(DaprAuthGuard), close: () => app.close() };
}

/**
 * An HTTP execution context for GET /orders/1 (or the @DaprPublic() handler, or `get` of another
 * controller) with these headers.
 */
export function httpContext(headers: Record<string, string>, handler: 'get' | 'health' = 'get', controller: Type = OrdersController): ExecutionContext {
  const request = { method: 'GET', url: '/orders/1', headers, route: { path: '/orders/:id' } };
  const args = [request, {}, () => undefined];
  return {
    getType: () => 'http',
    getArgs: () => args,
    getArgByIndex: (index: number) => args[index],
    getClass: () => controller,
    getHandler: () => (controller.prototype as Record<string, unknown>)[handler],
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => args[1], getNext: () => args[2] }),
    switchToRpc: () => {
      throw new Error('not rpc');
    },
    switchToWs: () => {
      throw new Error('not ws');
    },
  } as unknown as ExecutionContext;
}

/**
 * A resolver class as `@nestjs/graphql` hands it to guards. Not registered with the module: the
 * guard reads a handler it did not see at start-up on first use and caches it (the same WeakMap
 * lookup per call after that), and the GraphQL decorators would load the whole of @nestjs/graphql.
 */
class OrdersResolver {
  order() {
    return {};
  }
}

/**
 * A resolver's execution context, as `@nestjs/graphql` builds it: type `graphql`, arguments
 * `[root, args, gqlContext, info]`, the HTTP request (and so the token header) in `gqlContext.req`.
 */
export function graphqlContext(headers: Record<string, string>): ExecutionContext {
  const request = { method: 'POST', url: '/graphql', headers };
  const info = { fieldName: 'order', parentType: { name: 'Query' } };
  const context = new ExecutionContextHost([undefined, { id: '1' }, { req: request }, info], OrdersResolver, OrdersResolver.prototype.order);
  context.setType('graphql');
  return context;
}

@Controller()
class AppCallbackController {
  @GrpcMethod('AppCallback', 'OnInvoke')
  onInvoke() {
    return {};
  }
}

/**
 * A gRPC unary call of AppCallback/OnInvoke as Nest's gRPC server hands it to guards: type `rpc`,
 * arguments `[data, metadata, call]`.
 */
export function grpcContext(token: string): ExecutionContext {
  const metadata = new Metadata();
  metadata.set('dapr-api-token', token);
  const call = { metadata, getPath: () => '/dapr.proto.runtime.v1.AppCallback/OnInvoke' };
  const context = new ExecutionContextHost([{ method: 'orders' }, metadata, call], AppCallbackController, AppCallbackController.prototype.onInvoke);
  context.setType('rpc');
  return context;
}

/**
 * An app with `global: true` and one gRPC handler: the guard Nest runs on that handler (the class
 * `global: true` put in its `@UseGuards` metadata, resolved as Nest resolves it, from the hosting
 * module's injectables: the module's message-handler gate), and the DaprAuthGuard it delegates to.
 */
export async function createMessageHandlerGate(): Promise<{ gate: CanActivate; guard: CanActivate; close: () => Promise<void> }> {
  @Module({ imports: [DaprAuthModule.forRoot({ global: true, token: BENCH_TOKEN, logRejections: false })], controllers: [AppCallbackController] })
  class GrpcModule {}
  const app = await NestFactory.createApplicationContext(GrpcModule, { logger: false });
  const [guardClass] = Reflect.getMetadata(GUARDS_METADATA, AppCallbackController.prototype.onInvoke) as object[];
  const gate = [...app.get(ModulesContainer).values()].map((host) => host.injectables.get(guardClass as Type)?.instance).find(Boolean) as
    CanActivate | undefined;
  if (!gate) throw new Error('global: true put no guard on the gRPC handler');
  return { gate, guard: app.get(DaprAuthGuard), close: () => app.close() };
}

/** Calls canActivate and turns a thrown rejection into `false`, as Nest's exception path would end. */
export function check(guard: CanActivate, context: ExecutionContext): boolean {
  try {
    return guard.canActivate(context) as boolean;
  } catch {
    return false;
  }
}

/** How many `ownCheck` tasks were made: numbers their functions' names. */
let tasks = 0;

/**
 * One call of `guard.canActivate(context)` as `check` makes it, in code of its own: a task of the
 * micro benchmark. A shared `check` sees every task's guard at its `canActivate` call, and V8 then
 * inlines the first few it saw there (within one budget for all) and calls the others, so a task's
 * cost would depend on which other tasks ran in the process. In a Nest server that call is in
 * `GuardsConsumer.tryActivate` and sees the app's own guards only: code per task is that app.
 * (`new Function` makes new code, and so new type feedback; closures of one function share theirs.)
 */
export function ownCheck(guard: CanActivate, context: ExecutionContext): () => boolean {
  // Numbered: V8 caches the code of identical Function sources, which would share it again.
  const make = new Function('guard', 'context', `return function task${++tasks}() { try { return guard.canActivate(context); } catch { return false; } };`);
  return make(guard, context) as () => boolean;
}

/**
 * {@link ownCheck} with a new request object for every call, as a server hands the guard: what the
 * guard keeps per request (the WeakSet of verified calls) then grows and is cleared by the GC as in
 * a server, where a context reused for every call would find its request already there.
 */
export function ownCheckOfNewRequests(guard: CanActivate, headers: Record<string, string>): () => boolean {
  const context = httpContext(headers);
  const args = context.getArgs();
  const make = new Function(
    'guard',
    'context',
    'args',
    'headers',
    `return function task${++tasks}() { args[0] = { method: 'GET', url: '/orders/1', headers, route: { path: '/orders/:id' } }; try { return guard.canActivate(context); } catch { return false; } };`,
  );
  return make(guard, context, args, headers) as () => boolean;
}

/** The same for a guard that may answer with a promise (JWT mode without a cached result). */
export async function checkAsync(guard: CanActivate, context: ExecutionContext): Promise<boolean> {
  try {
    return (await guard.canActivate(context)) as boolean;
  } catch {
    return false;
  }
}
