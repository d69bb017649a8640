// A real DaprAuthGuard from a real Nest application context, and hand-made HTTP execution
// contexts for it (what Nest builds per request; its own cost is not the guard's).
import 'reflect-metadata';
import { type CanActivate, Controller, Get, type ExecutionContext, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
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

/** The same for a guard that may answer with a promise (JWT mode without a cached result). */
export async function checkAsync(guard: CanActivate, context: ExecutionContext): Promise<boolean> {
  try {
    return (await guard.canActivate(context)) as boolean;
  } catch {
    return false;
  }
}
