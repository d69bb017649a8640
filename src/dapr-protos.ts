import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Folder of the `.proto` files shipped in the `@dapr/dapr` npm package (Dapr's own). */
export const DAPR_PROTO_ROOT = join(dirname(createRequire(import.meta.url).resolve('@dapr/dapr/package.json')), 'proto');

/** Dapr's app callback services: `AppCallback`, `AppCallbackHealthCheck`, `AppCallbackAlpha`. */
export const APP_CALLBACK_PROTO = join(DAPR_PROTO_ROOT, 'dapr/proto/runtime/v1/appcallback.proto');

/** proto-loader options that keep Dapr's field names and decode `bytes` as Buffers. */
export const DAPR_PROTO_LOADER_OPTIONS = {
  includeDirs: [DAPR_PROTO_ROOT],
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};
