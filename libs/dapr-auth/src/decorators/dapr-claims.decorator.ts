import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { claimsOf } from '../jwt/verified-claims.js';

// DaprClaims has an explicit type: the inferred one names Nest 12's ParameterDecoratorOptions in
// the .d.ts, which Nest 11 does not have (npm run test:package caught it).

/**
 * Handler parameter: the verified claims of the request's JWT (option `jwt`), or one claim by
 * name. Works in HTTP and gRPC handlers. `undefined` when the guard did not verify a JWT for this
 * request (no `jwt` option, or a `@DaprPublic()` route).
 *
 * @example
 * ```ts
 * @Post('orders')
 * create(@DaprClaims() claims: JWTPayload, @DaprClaims('sub') caller: string) {}
 * ```
 */
export const DaprClaims: (claim?: string) => ParameterDecorator = createParamDecorator((claim: string | undefined, context: ExecutionContext) => {
  const claims = claimsOf(context);
  return claim === undefined ? claims : claims?.[claim];
});
