import { createParamDecorator } from '@nestjs/common';
import { callerParamFactory } from '../callers/verified-caller.js';

/**
 * Handler parameter: the calling app, `{ appId, namespace }`, for HTTP and gRPC handlers
 * (`namespace` is undefined when daprd sent none, or on a proxied gRPC call, where it cannot be
 * trusted). `undefined` unless the guard accepted this request's token and daprd sent exactly one
 * well-formed caller app id (pub/sub, bindings and self-invocation carry none).
 *
 * @example
 * ```ts
 * @Post('orders')
 * create(@DaprCaller() caller: DaprCallerIdentity | undefined) {}
 * ```
 */
export const DaprCaller: () => ParameterDecorator = createParamDecorator(callerParamFactory);
