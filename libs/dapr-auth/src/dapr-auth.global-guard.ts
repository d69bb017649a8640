import { Injectable } from '@nestjs/common';
import { DaprAuthGuard } from './dapr-auth.guard.js';
import type { HandlerAccess } from './access/handler-access.js';

/**
 * DaprAuthGuard as `global: true` registers it (`APP_GUARD`). It leaves every handler that has a
 * route-level DaprAuthGuard (`@DaprProtected()`, `@UseGuards(DaprAuthGuard)`, or the one
 * `global: true` puts on message and gRPC handlers) to that guard, so a request is checked once,
 * not twice, and every `@DaprOrAppGuard()` handler to the guard made by `daprOr()` that start-up
 * found on it. Everything else is DaprAuthGuard's own pipeline.
 */
@Injectable()
export class DaprAuthGlobalGuard extends DaprAuthGuard {
  protected override leavesToRouteGuard(access: HandlerAccess): boolean {
    return access.routeGuarded || access.messageGuarded || super.leavesToRouteGuard(access);
  }
}
