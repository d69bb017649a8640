import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { parseAllowedCallers } from '../callers/caller-rule.js';
import { DAPR_AUTH_ACCESS_METADATA, DAPR_CALLERS_METADATA } from '../dapr-auth.constants.js';
import { DaprAuthGuard } from '../dapr-auth.guard.js';
import type { DaprAccess } from '../access/dapr-access.js';

/**
 * Lets only these apps call a handler, or every handler of a controller: service invocation from
 * another Dapr app whose id (`dapr-caller-app-id`) is listed. `'checkout'` allows app `checkout`
 * from any namespace, `'shop/checkout'` only from namespace `shop`. App ids are compared exactly.
 *
 * Checked after the token (which is what makes daprd's headers trustworthy): a call whose caller
 * identity is missing (pub/sub, bindings, self-invocation), is not exactly one well-formed value
 * (what a caller's own attempt to send one looks like), or is not listed gets HTTP 403 / gRPC 7
 * PERMISSION_DENIED. It protects the handler like `@DaprProtected()`, so it never goes unchecked.
 * The method's list replaces its class's (and the module's `callers` default).
 * See docs/caller-identity.md for what daprd sends, measured.
 *
 * @example
 * ```ts
 * @Post('orders/:id/cancel')
 * @DaprCallers('checkout')
 * cancel() {}
 * ```
 */
export const DaprCallers = (...callers: string[]): ClassDecorator & MethodDecorator =>
  applyDecorators(
    SetMetadata(DAPR_CALLERS_METADATA, parseAllowedCallers(callers, '@DaprCallers()')),
    SetMetadata<string, DaprAccess>(DAPR_AUTH_ACCESS_METADATA, 'protected'),
    UseGuards(DaprAuthGuard),
  );
