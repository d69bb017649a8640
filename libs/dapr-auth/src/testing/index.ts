/**
 * `nestjs-dapr-auth/testing`: test your own app with the guard on, by playing daprd. A separate
 * entry point: the main one never loads it, so no test token reaches production code paths.
 *
 * ```ts
 * const moduleRef = await withDaprTestToken(Test.createTestingModule({ imports: [AppModule] })).compile();
 * await request(app.getHttpServer()).post('/orders/1/cancel').set(daprHeaders({ callerAppId: 'checkout' })).expect(201);
 * ```
 */
import { DAPR_API_TOKEN_HEADER, DAPR_AUTH_MODULE_OPTIONS, DAPR_AUTH_RESOLVED_OPTIONS } from '../dapr-auth.constants.js';
import type { DaprAuthModuleOptions } from '../options/dapr-auth.options.js';
import { resolveDaprAuthOptions } from '../options/resolve-dapr-auth-options.js';

/**
 * The token {@link withDaprTestToken} makes the module accept, and {@link daprHeaders} /
 * {@link setDaprMetadata} send by default. Well-formed, 43 characters, public: for tests only.
 */
export const DAPR_TEST_TOKEN = 'dapr-test-token-for-tests-only-not-a-secret';

/** The part of `@nestjs/testing`'s `TestingModuleBuilder` used here (typed structurally: `@nestjs/testing` is your dev dependency, not ours). */
export interface TestingModuleBuilderLike {
  overrideProvider(token: unknown): { useFactory(options: { factory: (...args: never[]) => unknown; inject?: unknown[] }): unknown };
}

/** Options the test token replaces: every other token source, and JWT mode (the test token is an opaque one). */
const REPLACED: ReadonlyArray<keyof DaprAuthModuleOptions> = [
  'token',
  'tokenEnvVar',
  'tokenFile',
  'tokenFilePollInterval',
  'tokenFileGracePeriod',
  'tokenSource',
  'jwt',
];

/**
 * One line for an e2e test with the real guard: the app's DaprAuthModule accepts `token` (default
 * {@link DAPR_TEST_TOKEN}) instead of its configured token source (`APP_API_TOKEN`, a file, JWT
 * mode...), with every other option of the app as it is. Also, since no daprd runs in the test:
 * caller rules start without `DAPR_API_TOKEN` (`allowForgeableCallers`), and the sidecar check is off.
 *
 * @returns the same builder, to chain `.compile()` or more overrides.
 */
export function withDaprTestToken<T extends TestingModuleBuilderLike>(builder: T, token: string = DAPR_TEST_TOKEN): T {
  builder.overrideProvider(DAPR_AUTH_RESOLVED_OPTIONS).useFactory({
    inject: [DAPR_AUTH_MODULE_OPTIONS],
    factory: (configured: DaprAuthModuleOptions) => {
      const options: DaprAuthModuleOptions = { ...configured, token, allowForgeableCallers: true, sidecarApiCheck: false };
      for (const key of REPLACED) if (key !== 'token') delete options[key];
      return resolveDaprAuthOptions(options, {});
    },
  });
  return builder;
}

/** What daprd sends with a call, as {@link daprHeaders} and {@link setDaprMetadata} write it. */
export interface DaprCallOptions {
  /** The app API token; default {@link DAPR_TEST_TOKEN}; `false`: none (to test a 401 / 16). */
  token?: string | false;
  /** `dapr-caller-app-id`: the calling app, as daprd stamps it on service invocation. */
  callerAppId?: string;
  /** `dapr-caller-namespace` (trusted over HTTP only, see docs/caller-identity.md). */
  callerNamespace?: string;
  /** `dapr-callee-app-id`. */
  calleeAppId?: string;
  /** The token's header / metadata name, if the app sets another one; default `dapr-api-token`. */
  tokenHeader?: string;
}

function entries(options: DaprCallOptions): Array<[string, string]> {
  const token = options.token ?? DAPR_TEST_TOKEN;
  const list: Array<[string, string | undefined]> = [
    [options.tokenHeader ?? DAPR_API_TOKEN_HEADER, token === false ? undefined : token],
    ['dapr-caller-app-id', options.callerAppId],
    ['dapr-caller-namespace', options.callerNamespace],
    ['dapr-callee-app-id', options.calleeAppId],
  ];
  return list.filter((entry): entry is [string, string] => entry[1] !== undefined);
}

/**
 * The HTTP headers daprd sends the app: the token and, for service invocation, the caller. For
 * supertest's `.set(...)`, `fetch`'s `headers`, or any client.
 *
 * @example `request(server).post('/orders/1/cancel').set(daprHeaders({ callerAppId: 'checkout' }))`
 */
export function daprHeaders(options: DaprCallOptions = {}): Record<string, string> {
  return Object.fromEntries(entries(options));
}

/**
 * Sets on a grpc-js `Metadata` what daprd sends a gRPC app (the token, the caller). Typed
 * structurally: pass `new Metadata()` of the `@grpc/grpc-js` your test uses.
 *
 * @returns the same metadata.
 */
export function setDaprMetadata<M extends { set(key: string, value: string): void }>(metadata: M, options: DaprCallOptions = {}): M {
  for (const [key, value] of entries(options)) metadata.set(key, value);
  return metadata;
}
