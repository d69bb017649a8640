import { createParamDecorator } from '@nestjs/common';
import { callerParamFactory } from '../callers/verified-caller.js';

/**
 * Handler parameter: the calling app, `{ appId, namespace }`, for HTTP and gRPC handlers
 * (`namespace` is undefined when daprd sent none, and always over gRPC, where a caller can send
 * its own). `undefined` unless the guard accepted this request's token and daprd sent exactly one
 * well-formed caller app id (pub/sub, bindings and self-invocation through daprd carry none).
 *
 * Without a caller rule in the app, nothing requires `DAPR_API_TOKEN`, and then anything that
 * reaches the app's own daprd API can forge this value by invoking the app through that daprd
 * (docs/caller-identity.md): use it for logs and metrics, or add `@DaprCallers()` to rely on it.
 *
 * @example
 * ```ts
 * @Post('orders')
 * create(@DaprCaller() caller: DaprCallerIdentity | undefined) {}
 * ```
 */
export const DaprCaller: () => ParameterDecorator = createParamDecorator(callerParamFactory);
