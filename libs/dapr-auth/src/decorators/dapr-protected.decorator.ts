import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { DAPR_AUTH_ACCESS_METADATA } from '../dapr-auth.constants.js';
import { DaprAuthGuard } from '../dapr-auth.guard.js';
import type { DaprAccess } from '../access/dapr-access.js';

/**
 * Protects a handler, or every handler of a controller, with {@link DaprAuthGuard}: the same as
 * `@UseGuards(DaprAuthGuard)`, and it overrides a class-level `@DaprPublic()`.
 */
export const DaprProtected = (): ClassDecorator & MethodDecorator =>
  applyDecorators(SetMetadata<string, DaprAccess>(DAPR_AUTH_ACCESS_METADATA, 'protected'), UseGuards(DaprAuthGuard));
