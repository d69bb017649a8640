/**
 * One source of truth for every fixed fact the library relies on: header and metadata names,
 * Dapr's token-less callbacks, defaults, metadata keys and injection tokens.
 */

/**
 * Header (HTTP) and metadata key (gRPC) that daprd uses to send `APP_API_TOKEN` to the app.
 * Node lower-cases incoming header names, so this is the only spelling the guard reads.
 */
export const DAPR_API_TOKEN_HEADER = 'dapr-api-token';

/** Environment variable daprd reads its app token from; the default for `tokenEnvVar`. */
export const DEFAULT_TOKEN_ENV_VAR = 'APP_API_TOKEN';

/** daprd's default `--app-health-check-path`; the default for `healthCheckPath`. */
export const DEFAULT_HEALTH_CHECK_PATH = '/healthz';

/** Longest presented or configured token accepted, in characters (a sane bound for JWTs too). */
export const DEFAULT_MAX_TOKEN_LENGTH = 4096;

/**
 * Bytes a token file may hold beyond `maxTokenLength`: the whitespace around the token (a trailing
 * newline, CRLF, a BOM). A larger file cannot hold a valid token and is not read further.
 */
export const TOKEN_FILE_WHITESPACE_ALLOWANCE = 1024;

/** How often a `tokenFile` is re-read whatever its watcher says, in ms (the backstop for missed events). */
export const DEFAULT_TOKEN_FILE_POLL_INTERVAL = 5_000;

/**
 * How long the previous token stays accepted after a `tokenFile` changes, in ms: long enough for
 * `kubectl rollout restart` to replace every sidecar still sending it.
 */
export const DEFAULT_TOKEN_FILE_GRACE_PERIOD = 15 * 60_000;

/** Configured tokens shorter than this are accepted with a start-up warning. */
export const RECOMMENDED_MIN_TOKEN_LENGTH = 16;

/**
 * gRPC methods daprd calls WITHOUT the token (dapr/dapr, pkg/channel/grpc). Demanding a token on
 * them marks the app unhealthy or leaves it without subscriptions and bindings.
 */
export const DAPR_TOKENLESS_GRPC_METHODS: ReadonlySet<string> = frozenSet([
  '/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck',
  '/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions',
  '/dapr.proto.runtime.v1.AppCallback/ListInputBindings',
]);

/**
 * A Set whose add, delete and clear throw: an exported list of what passes without a token must
 * not be widened at run time by any code in the process (`ReadonlySet` is a type, not a lock).
 */
function frozenSet<T>(values: readonly T[]): ReadonlySet<T> {
  const set = new Set(values);
  const refuse = () => {
    throw new TypeError('nestjs-dapr-auth: this set is read-only');
  };
  return Object.freeze(Object.defineProperties(set, { add: { value: refuse }, delete: { value: refuse }, clear: { value: refuse } }));
}

/** The one message every rejection carries, whatever the reason: reasons go to the log only. */
export const REJECTION_MESSAGE = 'Unauthorized';

/**
 * The HTTP rejection's body as bytes on the wire: what Nest sends for the guard's 401
 * (`{"message":"Unauthorized","statusCode":401}`), sent as is by the check without Nest.
 */
export const REJECTION_HTTP_BODY = JSON.stringify({ message: REJECTION_MESSAGE, statusCode: 401 });

/** gRPC status code 16, UNAUTHENTICATED. */
export const GRPC_STATUS_UNAUTHENTICATED = 16;

/** The one message every caller refusal (`@DaprCallers`) carries. */
export const FORBIDDEN_MESSAGE = 'Forbidden';

/** gRPC status code 7, PERMISSION_DENIED: the caller is authenticated but not allowed. */
export const GRPC_STATUS_PERMISSION_DENIED = 7;

/** Header / metadata daprd stamps with the calling app's id on service invocation. */
export const DAPR_CALLER_APP_ID_HEADER = 'dapr-caller-app-id';

/** Header / metadata daprd stamps with the calling app's namespace (daprd 1.16 and later). */
export const DAPR_CALLER_NAMESPACE_HEADER = 'dapr-caller-namespace';

/** Reflect-metadata key written by `@DaprCallers()`. */
export const DAPR_CALLERS_METADATA = 'nestjs-dapr-auth:callers';

/**
 * HTTP routes daprd itself calls, with the token: `/dapr/subscribe`, `/dapr/config`, actor callbacks
 * and job triggers. Start-up calls them out when they are `@DaprPublic()`.
 */
export const DAPR_CALLED_HTTP_PATHS: readonly RegExp[] = [/^\/dapr\/(subscribe|config)$/, /^\/actors(\/|$)/, /^\/job(\/|$)/];

/** Reflect-metadata key written by `@DaprPublic()` and `@DaprProtected()`. */
export const DAPR_AUTH_ACCESS_METADATA = 'nestjs-dapr-auth:access';

/** `GUARDS_METADATA` of `@nestjs/common` (`@UseGuards`), not in its public index. */
export const NEST_GUARDS_METADATA = '__guards__';
/** `EXCEPTION_FILTERS_METADATA` of `@nestjs/common` (`@UseFilters`). */
export const NEST_EXCEPTION_FILTERS_METADATA = '__exceptionFilters__';
/** `PATH_METADATA` / `METHOD_METADATA` of `@nestjs/common` (`@Controller`, `@Get`...). */
export const NEST_PATH_METADATA = 'path';
export const NEST_METHOD_METADATA = 'method';
/** `PATTERN_METADATA` / `PATTERN_HANDLER_METADATA` of `@nestjs/microservices` (an optional peer, so not imported). */
export const NEST_PATTERN_METADATA = 'microservices:pattern';
export const NEST_PATTERN_HANDLER_METADATA = 'microservices:handler_type';

/** Injection token of the options exactly as passed to `forRoot` / returned by `forRootAsync`. */
export const DAPR_AUTH_MODULE_OPTIONS = 'DAPR_AUTH:MODULE_OPTIONS';

/** Injection token of the validated options with every default applied ({@link ResolvedDaprAuthOptions}). */
export const DAPR_AUTH_RESOLVED_OPTIONS = 'DAPR_AUTH:RESOLVED_OPTIONS';

/** Injection token of the {@link DaprTokenSource} the guard asks for the accepted tokens. */
export const DAPR_TOKEN_SOURCE = 'DAPR_AUTH:TOKEN_SOURCE';

/** Injection token of the transport adapters, in the order the guard asks them. Internal. */
export const DAPR_TRANSPORT_ADAPTERS = 'DAPR_AUTH:TRANSPORT_ADAPTERS';

/** Injection token of the decision recorder (metrics; a no-op without the `metrics` option). Internal. */
export const DAPR_DECISION_RECORDER = 'DAPR_AUTH:DECISION_RECORDER';

/** Injection token of the report-only monitor (null unless `mode: 'report'`). Internal. */
export const DAPR_REPORT_ONLY_MONITOR = 'DAPR_AUTH:REPORT_ONLY_MONITOR';
/** Injection token of the module's {@link RejectionLog} (the rejection log's rate limit), shared by its guards. */
export const DAPR_REJECTION_LOG = 'DAPR_AUTH:REJECTION_LOG';

/** Injection token of the JWT verifier (null without the `jwt` option). */
export const DAPR_JWT_VERIFIER = 'DAPR_AUTH:JWT_VERIFIER';

/** Injection token of whether `global: true` registered the guard as `APP_GUARD`. Internal. */
export const DAPR_AUTH_GLOBAL_GUARD = 'DAPR_AUTH:GLOBAL_GUARD';

/** Injection token of the start-up index of every handler's access (handler-access.ts). */
export const DAPR_HANDLER_ACCESS_INDEX = 'DAPR_AUTH:HANDLER_ACCESS_INDEX';

/** Injection token: the module's own DaprAuthGuard, as the check without its refusal that DaprAuthRules runs (`verifyDaprCall`). */
export const DAPR_CALL_VERIFIER = 'DAPR_AUTH:CALL_VERIFIER';
/** Injection token: Nest's `RoutePathFactory` class from the app's `@nestjs/core` (or undefined), loaded once. */
export const DAPR_ROUTE_PATH_FACTORY = 'DAPR_AUTH:ROUTE_PATH_FACTORY';
