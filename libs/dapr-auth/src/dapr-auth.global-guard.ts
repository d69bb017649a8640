import { type ExecutionContext, Injectable } from '@nestjs/common';
import { DaprAuthGuard } from './dapr-auth.guard.js';

/**
 * DaprAuthGuard as `global: true` registers it (`APP_GUARD`). It leaves `@DaprProtected()`
 * handlers to the route-level DaprAuthGuard that decorator always adds (`UseGuards`), so such a
 * request is checked once instead of twice. Everything else is DaprAuthGuard's own pipeline.
 */
@Injectable()
export class DaprAuthGlobalGuard extends DaprAuthGuard {
  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    return this.accessOf(context) === 'protected' ? true : super.canActivate(context);
  }
}
