import { SetMetadata } from '@nestjs/common';
import { DAPR_AUTH_ACCESS_METADATA } from '../dapr-auth.constants.js';
import type { DaprAccess } from '../access/dapr-access.js';

/**
 * Exempts a handler, or every handler of a controller, from {@link DaprAuthGuard}: for routes that
 * callers other than the sidecar must reach while the guard is global. A `@DaprProtected()` or
 * `@UseGuards(DaprAuthGuard)` on a method of a `@DaprPublic()` class protects that method again; on
 * the same method or class as `@DaprPublic()`, the guard wins (with a start-up warning).
 */
export const DaprPublic = (): ClassDecorator & MethodDecorator => SetMetadata<string, DaprAccess>(DAPR_AUTH_ACCESS_METADATA, 'public');
