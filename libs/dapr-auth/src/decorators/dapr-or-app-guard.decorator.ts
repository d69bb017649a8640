import { SetMetadata } from '@nestjs/common';
import { DAPR_AUTH_ACCESS_METADATA } from '../dapr-auth.constants.js';
import type { DaprAccess } from '../access/dapr-access.js';

/**
 * Lets a handler, or every handler of a controller, be called by daprd OR by whoever your own guard
 * accepts (a user with a JWT, say): a request that is a verified Dapr call passes; any other is
 * decided by your guard, composed with the Dapr check by `daprOr(YourGuard)` (as `APP_GUARD`, or in
 * `@UseGuards` of the handler or its class). Start-up refuses a handler that no such guard covers,
 * and `global: true`'s guard leaves these handlers to it. A `@DaprProtected()` or
 * `@UseGuards(DaprAuthGuard)` nearer the handler, or on the same method or class, makes it
 * Dapr-only (the guard wins). See docs/beside-user-auth.md.
 */
export const DaprOrAppGuard = (): ClassDecorator & MethodDecorator => SetMetadata<string, DaprAccess>(DAPR_AUTH_ACCESS_METADATA, 'dapr-or-app-guard');
