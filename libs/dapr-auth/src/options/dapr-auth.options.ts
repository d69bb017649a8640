import type { LogLevel } from '@nestjs/common';
import type { AllowedCaller } from '../callers/caller-rule.js';
import type { DaprJwtOptions, ResolvedJwtOptions } from '../jwt/dapr-jwt.options.js';
import type { TokenExtractor } from '../pipeline.types.js';
import type { DaprTokenSource } from '../tokens/dapr-token-source.js';

/**
 * Options of {@link DaprAuthModule.forRoot} (and what `forRootAsync`'s factory returns).
 * Every option is validated at start-up; a wrong one stops the app with a message that says how
 * to fix it.
 */
export interface DaprAuthModuleOptions {
  /**
   * The accepted token, or several (to rotate without downtime). Takes the place of
   * `tokenEnvVar`. Prefer the environment or a secret store over a literal in code.
   */
  token?: string | readonly string[];
  /**
   * Environment variable(s) to read the token from, at start-up. Default `APP_API_TOKEN`, the
   * variable daprd itself reads. Several names accept several tokens (e.g.
   * `['APP_API_TOKEN', 'APP_API_TOKEN_PREVIOUS']` during a rotation); unset ones are skipped, at
   * least one must be set.
   */
  tokenEnvVar?: string | readonly string[];
  /**
   * A file whose content (trimmed) is the token, e.g. a Kubernetes Secret mounted as a volume
   * (`/var/run/secrets/dapr-app-token/token`; not with `subPath`, which never updates). The file
   * is followed: when it changes, the new token is accepted at once and the previous one for
   * `tokenFileGracePeriod` more. Takes the place of `tokenEnvVar`. See {@link FileTokenSource}.
   */
  tokenFile?: string;
  /** With `tokenFile`: how often the file is re-read whatever its watcher says, in ms. Default 5000. */
  tokenFilePollInterval?: number;
  /**
   * With `tokenFile`: how long the previous token stays accepted after the file changes, in ms.
   * Default 15 minutes, enough for `kubectl rollout restart` to replace the sidecars still sending it.
   */
  tokenFileGracePeriod?: number;
  /** Your own source of accepted tokens; takes the place of `token`, `tokenEnvVar` and `tokenFile`. */
  tokenSource?: DaprTokenSource;
  /**
   * With no token configured, let every request through (with a loud warning at start-up)
   * instead of refusing to start. This is what Dapr itself does without `APP_API_TOKEN`: use it
   * for local development only. Default `false`.
   */
  allowUnconfigured?: boolean;
  /**
   * Path of daprd's HTTP app health probe (`--app-health-check-path`), which never carries the
   * token: a `GET` or `HEAD` to exactly this path (query string ignored) is let through.
   * Default `/healthz`.
   */
  healthCheckPath?: string;
  /**
   * The HTTP header / gRPC metadata key the token comes in. Default `dapr-api-token`, what every
   * released daprd sends. For a daprd that lets you choose the name (proposed upstream:
   * dapr/dapr#7147, #10239, not in a release yet), set the same name here. Lower case letters,
   * digits, `-`, `_` and `.`, at most 64.
   *
   * Start-up refuses a name another layer gives a meaning to (the list, with why, is
   * `RESERVED_TOKEN_HEADERS` in options/token-header.ts): one Node keeps only the first value of
   * (`authorization`, `host`, `content-type`, `user-agent`...) or joins its own way (`cookie`), so
   * that a second token would go unnoticed; hop-by-hop and other HTTP headers (`connection`, `te`,
   * `transfer-encoding`, `upgrade`, `content-*`...); proxy, gRPC, tracing and Dapr ones
   * (`x-forwarded-*`, `grpc-*`, `*-bin`, `traceparent`, `dapr-*` other than `dapr-api-token`).
   */
  tokenHeader?: string;
  /**
   * Let through the calls daprd makes without a token: the HTTP health probe, and the gRPC
   * `AppCallbackHealthCheck/HealthCheck`, `AppCallback/ListTopicSubscriptions` and
   * `AppCallback/ListInputBindings`. Default `true`; turning it off breaks health checks,
   * subscriptions and input bindings under Dapr.
   */
  exemptTokenlessDaprCalls?: boolean;
  /**
   * Reads the token in execution contexts the guard does not know (WebSocket gateways, other
   * microservice transports, GraphQL...). Without it such contexts are always rejected.
   */
  extractToken?: TokenExtractor;
  /**
   * Logger level for rejected requests (transport, route or gRPC method and the reason are logged,
   * never the token), or `false` to not log them. Default `'warn'`.
   */
  logRejections?: LogLevel | false;
  /**
   * How many rejection lines are logged one by one at most per window: `{ lines: 10, windowMs: 10000 }`
   * by default. Past that, rejections are only counted, and one summary line at the end of the
   * window says how many were not logged one by one, by transport and reason (malformed and wrong
   * tokens counted together, as `malformed-or-mismatch`): a flood of bad tokens costs counting,
   * not logging, and the log still shows that it happened. `false` logs every rejection.
   */
  rejectionLogLimit?: DaprRejectionLogLimit | false;
  /** Longest token accepted, configured or presented, in characters. Default 4096. */
  maxTokenLength?: number;
  /**
   * Verify the token as a JWT (signature, algorithm, expiry, issuer, audience…) with `jose`. With
   * `jwt`, `APP_API_TOKEN` is not read unless a token source is named (`tokenEnvVar`, `token`,
   * `tokenFile`, `tokenSource`): then both checks must pass. See {@link DaprJwtOptions}.
   */
  jwt?: DaprJwtOptions;
  /**
   * What start-up does about HTTP routes and message / gRPC handlers that nothing protects and
   * that are not `@DaprPublic()`: `'warn'` lists them (default), `'error'` refuses to start (for
   * production), `'ignore'` says nothing. `@DaprPublic()` handlers that daprd itself calls are
   * called out unless `'ignore'`.
   */
  unprotected?: DaprAuthUnprotectedPolicy;
  /**
   * The apps allowed to call every protected handler that has no `@DaprCallers()` of its own (on it
   * or its class): `'checkout'` (that app id, any namespace) or `'shop/checkout'`. Default: no
   * caller rule. Calls without a caller identity (pub/sub, bindings, health) are then refused too:
   * prefer `@DaprCallers()` on the handlers that serve service invocation.
   */
  callers?: readonly string[];
  /**
   * Start although a caller rule (`@DaprCallers()` anywhere, or `callers`) exists and
   * `DAPR_API_TOKEN` is not set in the app's environment, accepting that the caller app id can be
   * forged: a client that reaches the app's own daprd API can invoke the app through it and send
   * its own `dapr-caller-app-id`, which daprd (v1.18.3 and earlier) forwards alone with the valid
   * app token (docs/caller-identity.md). Only a daprd whose API requires `DAPR_API_TOKEN` keeps such
   * clients out, and the app then has that variable too. Default `false`: start-up refuses and
   * names the fix. When `true`, a warning at every start, and caller rules apply even while the
   * sidecar check (`sidecarApiCheck`) has not proven daprd's API closed (it still logs what it finds).
   */
  allowForgeableCallers?: boolean;
  /**
   * Where `DAPR_HTTP_PORT` is set (`dapr run` and the Kubernetes injector set it for the app),
   * check after start, in the background, that the daprd there (on `DAPR_HOST`, default
   * `127.0.0.1`) requires `DAPR_API_TOKEN`: `GET /v1.0/metadata` without a token gets 401, and with
   * the app's own `DAPR_API_TOKEN` (never `APP_API_TOKEN`) 2xx; no redirect is followed. Until that
   * is proven, and again whenever a re-check (every 5 minutes) finds the API open, caller rules
   * refuse every call (HTTP 403 / gRPC 7, logged reason `sidecar-api-unverified`; not with
   * `allowForgeableCallers`). Each finding is one log line, `DaprAuthStatus.sidecarApi` and the
   * health indicator. Never delays start-up, never logs a token. Default `true`; `false`: the
   * start-up rule on `DAPR_API_TOKEN` alone.
   */
  sidecarApiCheck?: boolean;
  /**
   * `'enforce'` (default) refuses what fails a check. `'report'` (report-only, for rolling the
   * guard out) makes and logs every decision as usual but refuses nothing, with a loud warning at
   * start-up and every 5 minutes. Never together with `allowUnconfigured`.
   */
  mode?: 'enforce' | 'report';
  /**
   * OpenTelemetry metrics of every decision and of token use (docs/observability.md), through the
   * optional peer `@opentelemetry/api`, imported only then: `true` for the global MeterProvider,
   * or `{ meterProvider }`. Default off (nothing loaded, nothing spent).
   */
  metrics?: boolean | DaprAuthMetricsOptions;
  /**
   * How long no request may have used a previous token before the log says the rotation can be
   * completed (see `DaprAuthStatus`), in ms. Default 5 minutes.
   */
  rotationQuietPeriod?: number;
}

/** Option `metrics` as an object. Typed structurally, so apps without `@opentelemetry/api` still compile. */
export interface DaprAuthMetricsOptions {
  /** An OpenTelemetry `MeterProvider` (default: the global one, `metrics.getMeterProvider()`). */
  meterProvider?: { getMeter(name: string, version?: string, options?: object): unknown };
}

/** See {@link DaprAuthModuleOptions.unprotected}. */
export type DaprAuthUnprotectedPolicy = 'warn' | 'error' | 'ignore';

/** Extra options of `forRoot` / `forRootAsync` that shape the module itself. */
export interface DaprAuthModuleExtras {
  /** Register {@link DaprAuthGuard} as a global guard (`APP_GUARD`). Default `false`. */
  global?: boolean;
}

/** {@link DaprAuthModuleOptions.rejectionLogLimit}. */
export interface DaprRejectionLogLimit {
  /** Lines logged one by one per window (at least 1). Default 10. */
  lines?: number;
  /** The window, in milliseconds (at least 100). Default 10000. */
  windowMs?: number;
}

/** The options after validation, with every default applied. */
export interface ResolvedDaprAuthOptions {
  /** Source of the accepted tokens; `undefined` only when `allowUnconfigured` let the app start without one. */
  readonly tokenSource: DaprTokenSource | undefined;
  /** {@link DaprAuthModuleOptions.healthCheckPath}, default `/healthz`. */
  readonly healthCheckPath: string;
  /** {@link DaprAuthModuleOptions.tokenHeader}, default `dapr-api-token`. */
  readonly tokenHeader: string;
  /** {@link DaprAuthModuleOptions.exemptTokenlessDaprCalls}, default `true`. */
  readonly exemptTokenlessDaprCalls: boolean;
  /** {@link DaprAuthModuleOptions.extractToken}, if given. */
  readonly extractToken: TokenExtractor | undefined;
  /** {@link DaprAuthModuleOptions.logRejections}, default `'warn'`. */
  readonly logRejections: LogLevel | false;
  /** {@link DaprAuthModuleOptions.rejectionLogLimit}, default `{ lines: 10, windowMs: 10000 }`; `undefined`: no limit. */
  readonly rejectionLogLimit: Readonly<Required<DaprRejectionLogLimit>> | undefined;
  /** {@link DaprAuthModuleOptions.maxTokenLength}, default 4096. */
  readonly maxTokenLength: number;
  /** {@link DaprAuthModuleOptions.jwt}, validated; `undefined` without it. */
  readonly jwt: ResolvedJwtOptions | undefined;
  /** {@link DaprAuthModuleOptions.unprotected}, default `'warn'`. */
  readonly unprotected: DaprAuthUnprotectedPolicy;
  /** {@link DaprAuthModuleOptions.metrics}: the options when on, `undefined` when off. */
  readonly metrics: DaprAuthMetricsOptions | undefined;
  /** {@link DaprAuthModuleOptions.rotationQuietPeriod}, default 5 minutes. */
  readonly rotationQuietPeriod: number;
  /** {@link DaprAuthModuleOptions.mode}, default `'enforce'`. */
  readonly mode: 'enforce' | 'report';
  /** {@link DaprAuthModuleOptions.callers}, parsed; `undefined` without it. */
  readonly callers: readonly AllowedCaller[] | undefined;
  /** {@link DaprAuthModuleOptions.allowForgeableCallers}, default `false`. */
  readonly allowForgeableCallers: boolean;
  /** {@link DaprAuthModuleOptions.sidecarApiCheck}, default `true`. */
  readonly sidecarApiCheck: boolean;
  /** Where the accepted tokens come from, for the start-up summary (never a token). */
  readonly tokenOrigin: string;
  /** Start-up warnings to log (never containing a token). */
  readonly warnings: readonly string[];
}
