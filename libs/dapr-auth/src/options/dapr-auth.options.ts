import type { LogLevel } from '@nestjs/common';
import {
  DEFAULT_HEALTH_CHECK_PATH,
  DEFAULT_MAX_TOKEN_LENGTH,
  DEFAULT_TOKEN_ENV_VAR,
  DEFAULT_TOKEN_FILE_GRACE_PERIOD,
  DEFAULT_TOKEN_FILE_POLL_INTERVAL,
  RECOMMENDED_MIN_TOKEN_LENGTH,
} from '../dapr-auth.constants.js';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import type { DaprTokenSource } from '../tokens/dapr-token-source.js';
import { type DaprJwtOptions, resolveJwtOptions, type ResolvedJwtOptions } from '../jwt/dapr-jwt.options.js';
import { FileTokenSource } from '../tokens/file-token-source.js';
import { StaticTokenSource } from '../tokens/static-token-source.js';
import { isWellFormedToken } from '../tokens/token-format.js';
import { type AllowedCaller, parseAllowedCallers } from '../callers/caller-rule.js';
import { OptionChecks, shownEnvName, shownPath } from '../option-checks.js';
import type { TokenExtractor } from '../pipeline.types.js';

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
   * window says how many were not logged one by one, by transport and reason: a flood of bad
   * tokens costs counting, not logging, and the log still shows that it happened. `false` logs
   * every rejection.
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
   * names the fix. When `true`, a warning at every start.
   */
  allowForgeableCallers?: boolean;
  /**
   * Where `DAPR_HTTP_PORT` is set (`dapr run` and the Kubernetes injector set it for the app),
   * check after start, in the background, that the daprd there refuses a client without
   * `DAPR_API_TOKEN` (`GET /v1.0/metadata`, no token sent): if it answers, an error line, and
   * `DaprAuthStatus.sidecarApi` / the health indicator say `open`. Never delays start-up, never
   * sends a token. Default `true`.
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

/** The options after validation, with every default applied. */
/** {@link DaprAuthModuleOptions.rejectionLogLimit}. */
export interface DaprRejectionLogLimit {
  /** Lines logged one by one per window (at least 1). Default 10. */
  lines?: number;
  /** The window, in milliseconds (at least 100). Default 10000. */
  windowMs?: number;
}

export interface ResolvedDaprAuthOptions {
  /** Source of the accepted tokens; `undefined` only when `allowUnconfigured` let the app start without one. */
  readonly tokenSource: DaprTokenSource | undefined;
  /** {@link DaprAuthModuleOptions.healthCheckPath}, default `/healthz`. */
  readonly healthCheckPath: string;
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

const KNOWN_OPTIONS: ReadonlySet<string> = new Set<keyof DaprAuthModuleOptions>([
  'token',
  'tokenEnvVar',
  'tokenFile',
  'tokenFilePollInterval',
  'tokenFileGracePeriod',
  'tokenSource',
  'allowUnconfigured',
  'healthCheckPath',
  'exemptTokenlessDaprCalls',
  'extractToken',
  'logRejections',
  'rejectionLogLimit',
  'maxTokenLength',
  'jwt',
  'unprotected',
  'callers',
  'allowForgeableCallers',
  'sidecarApiCheck',
  'mode',
  'metrics',
  'rotationQuietPeriod',
]);
const LOG_LEVELS = ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'] as const;
const check = new OptionChecks();
/** The largest `maxTokenLength` accepted. */
const MAX_TOKEN_LENGTH_LIMIT = 65_536;

function toList<T>(value: T | readonly T[]): readonly T[] {
  return Array.isArray(value) ? value : [value as T];
}

function checkConfiguredToken(token: unknown, origin: string, maxLength: number, warnings: string[]): string {
  if (typeof token !== 'string') {
    throw new DaprAuthConfigError(`${origin} must be a string, got ${token === null ? 'null' : typeof token}.`);
  }
  if (token.trim() === '') {
    throw new DaprAuthConfigError(`${origin} is empty. Set it to the same value as the Dapr sidecar's APP_API_TOKEN.`);
  }
  if (!isWellFormedToken(token, maxLength)) {
    throw new DaprAuthConfigError(
      `${origin} is not a valid token: it must be 1 to ${maxLength} visible ASCII characters, without ` +
        `spaces or line breaks (a trailing newline from 'echo' or a file is the usual cause; raise ` +
        `maxTokenLength for longer tokens).`,
    );
  }
  if (token.length < RECOMMENDED_MIN_TOKEN_LENGTH) {
    warnings.push(
      `${origin} is shorter than ${RECOMMENDED_MIN_TOKEN_LENGTH} characters and easy to guess; ` +
        `generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`,
    );
  }
  return token;
}

function tokensFromOptions(options: DaprAuthModuleOptions, env: NodeJS.ProcessEnv, maxLength: number, warnings: string[]): string[] {
  if (options.token !== undefined) {
    const list = toList(options.token);
    if (list.length === 0) throw new DaprAuthConfigError('option `token` is an empty list; give at least one token.');
    return list.map((token, i) => checkConfiguredToken(token, list.length > 1 ? `option \`token\`[${i}]` : 'option `token`', maxLength, warnings));
  }
  const names = check.strings('tokenEnvVar', options.tokenEnvVar, 'an environment variable name') ?? [DEFAULT_TOKEN_ENV_VAR];
  const tokens = names
    .filter((name) => env[name] !== undefined)
    .map((name) => checkConfiguredToken(env[name], `environment variable ${shownEnvName(name)}`, maxLength, warnings));
  return tokens;
}

function describeMissingToken(options: DaprAuthModuleOptions): string {
  const names = toList(options.tokenEnvVar ?? DEFAULT_TOKEN_ENV_VAR)
    .map(shownEnvName)
    .join(' or ');
  return (
    `no Dapr app API token is configured: environment variable ${names} is not set. Set it to the ` +
    `same value as the Dapr sidecar's APP_API_TOKEN (on Kubernetes, from the Secret named by the ` +
    `dapr.io/app-token-secret annotation), or pass \`tokenFile\` (a mounted Secret), \`token\` or \`tokenSource\` to DaprAuthModule. ` +
    `For local development without Dapr only, \`allowUnconfigured: true\` lets every request through.`
  );
}

/**
 * Validates the options and applies the defaults: ALL start-up validation lives here.
 *
 * @throws DaprAuthConfigError with a message naming the problem and the fix (never a token).
 */
export function resolveDaprAuthOptions(options: DaprAuthModuleOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedDaprAuthOptions {
  if (options === null || typeof options !== 'object') {
    throw new DaprAuthConfigError('options must be an object.');
  }
  const unknown = Object.keys(options).filter((key) => !KNOWN_OPTIONS.has(key));
  if (unknown.length > 0) {
    throw new DaprAuthConfigError(
      `unknown option(s) ${unknown.map((k) => `\`${k}\``).join(', ')}. Known options: ${[...KNOWN_OPTIONS].join(', ')}` +
        ` (and \`global\` on forRoot/forRootAsync).`,
    );
  }
  const configuredSources = (['token', 'tokenEnvVar', 'tokenFile', 'tokenSource'] as const).filter((key) => options[key] !== undefined);
  if (configuredSources.length > 1) {
    throw new DaprAuthConfigError(`options ${configuredSources.map((k) => `\`${k}\``).join(' and ')} each say where the token comes from; keep one.`);
  }
  // Bounded: the compare keeps a buffer this long, and Node refuses longer headers anyway (16 KiB by default).
  const maxTokenLength = check.integer('maxTokenLength', options.maxTokenLength, DEFAULT_MAX_TOKEN_LENGTH, 1, MAX_TOKEN_LENGTH_LIMIT);
  const healthCheckPath = options.healthCheckPath ?? DEFAULT_HEALTH_CHECK_PATH;
  if (typeof healthCheckPath !== 'string' || !healthCheckPath.startsWith('/')) {
    check.fail('healthCheckPath', healthCheckPath, 'a path starting with "/"', "The same as daprd's --app-health-check-path.");
  }
  const logRejections = options.logRejections ?? 'warn';
  if (logRejections !== false && !LOG_LEVELS.includes(logRejections)) {
    check.fail('logRejections', logRejections, `false or one of ${LOG_LEVELS.join(', ')}`);
  }
  let rejectionLogLimit: Readonly<Required<DaprRejectionLogLimit>> | undefined;
  if (options.rejectionLogLimit !== false) {
    const limit = options.rejectionLogLimit ?? {};
    if (typeof limit !== 'object' || limit === null || Array.isArray(limit)) {
      check.fail('rejectionLogLimit', limit, 'false or { lines, windowMs }');
    }
    const unknownKeys = Object.keys(limit).filter((key) => key !== 'lines' && key !== 'windowMs');
    if (unknownKeys.length > 0) check.fail('rejectionLogLimit', limit, 'false or { lines, windowMs }', `Unknown key(s): ${unknownKeys.join(', ')}.`);
    rejectionLogLimit = Object.freeze({
      lines: check.integer('rejectionLogLimit.lines', limit.lines, 10, 1),
      windowMs: check.milliseconds('rejectionLogLimit.windowMs', limit.windowMs, 10_000, 100),
    });
  }
  if (options.extractToken !== undefined && typeof options.extractToken !== 'function') {
    check.fail('extractToken', options.extractToken, 'a function (context) => string | string[] | undefined');
  }
  if (options.tokenSource !== undefined && typeof options.tokenSource?.getTokens !== 'function') {
    check.fail('tokenSource', options.tokenSource, 'a DaprTokenSource: an object with a getTokens() method');
  }
  const allowUnconfigured = check.boolean('allowUnconfigured', options.allowUnconfigured, false);
  const allowForgeableCallers = check.boolean('allowForgeableCallers', options.allowForgeableCallers, false);
  const sidecarApiCheck = check.boolean('sidecarApiCheck', options.sidecarApiCheck, true);
  const exemptTokenlessDaprCalls = check.boolean('exemptTokenlessDaprCalls', options.exemptTokenlessDaprCalls, true);
  const unprotected = check.oneOf('unprotected', options.unprotected, ['warn', 'error', 'ignore'] as const, 'warn');
  const mode = check.oneOf('mode', options.mode, ['enforce', 'report'] as const, 'enforce');
  const rotationQuietPeriod = check.milliseconds('rotationQuietPeriod', options.rotationQuietPeriod, 5 * 60_000, 1000);
  let metrics: DaprAuthMetricsOptions | undefined;
  if (options.metrics === true) metrics = {};
  else if (typeof options.metrics === 'object' && options.metrics !== null && !Array.isArray(options.metrics)) {
    const provider = options.metrics.meterProvider;
    if (provider !== undefined && typeof provider?.getMeter !== 'function')
      check.fail('metrics.meterProvider', provider, 'an OpenTelemetry MeterProvider (with getMeter())');
    metrics = options.metrics;
  } else if (options.metrics !== undefined && options.metrics !== false) {
    check.fail('metrics', options.metrics, 'true, false, or { meterProvider }');
  }
  if (mode === 'report' && allowUnconfigured) {
    throw new DaprAuthConfigError(
      "options `mode: 'report'` and `allowUnconfigured: true` together: report-only mode reports what enforcing would refuse, " +
        'which needs a configured token; allowUnconfigured lets everything through unreported. Keep one.',
    );
  }
  let callers: readonly AllowedCaller[] | undefined;
  if (options.callers !== undefined) {
    if (!Array.isArray(options.callers)) check.fail('callers', options.callers, "a list of app ids, e.g. ['checkout'] or ['shop/checkout']");
    try {
      callers = parseAllowedCallers(options.callers, 'option `callers`');
    } catch (error) {
      throw new DaprAuthConfigError((error as Error).message);
    }
  }

  for (const key of ['tokenFilePollInterval', 'tokenFileGracePeriod'] as const) {
    if (options[key] !== undefined && options.tokenFile === undefined) {
      throw new DaprAuthConfigError(`option \`${key}\` only applies with \`tokenFile\`; set tokenFile or remove it.`);
    }
  }
  const tokenFilePollInterval = check.milliseconds('tokenFilePollInterval', options.tokenFilePollInterval, DEFAULT_TOKEN_FILE_POLL_INTERVAL, 100);
  const tokenFileGracePeriod = check.milliseconds('tokenFileGracePeriod', options.tokenFileGracePeriod, DEFAULT_TOKEN_FILE_GRACE_PERIOD, 0);
  if (options.tokenFile !== undefined && (typeof options.tokenFile !== 'string' || options.tokenFile === '')) {
    check.fail('tokenFile', options.tokenFile, 'the path of the file holding the token');
  }
  if (options.jwt !== undefined && (options.jwt === null || typeof options.jwt !== 'object' || Array.isArray(options.jwt))) {
    check.fail('jwt', options.jwt, 'an object: { algorithms, and one of secret, publicKey, jwks, jwksUri }');
  }

  const warnings: string[] = [];
  let tokenSource = options.tokenSource;
  let tokenOrigin = tokenSource === undefined ? '' : 'your tokenSource';
  if (tokenSource === undefined && options.tokenFile !== undefined) {
    const fileSource = new FileTokenSource({
      path: options.tokenFile,
      pollInterval: tokenFilePollInterval,
      gracePeriod: tokenFileGracePeriod,
      maxTokenLength,
    });
    checkConfiguredToken(fileSource.getTokens()[0], `token file ${shownPath(options.tokenFile)}`, maxTokenLength, warnings);
    tokenSource = fileSource;
    tokenOrigin = `file ${shownPath(options.tokenFile)} (followed)`;
  }
  const jwt = options.jwt === undefined ? undefined : resolveJwtOptions(options.jwt);
  // With jwt, a token source is a second check, used only when one is named explicitly.
  const wantsTokenSource = jwt === undefined || options.token !== undefined || options.tokenEnvVar !== undefined;
  if (tokenSource === undefined && wantsTokenSource) {
    const tokens = tokensFromOptions(options, env, maxTokenLength, warnings);
    if (tokens.length > 0) {
      tokenSource = new StaticTokenSource(tokens);
      tokenOrigin =
        options.token !== undefined
          ? 'option `token`'
          : `environment variable ${toList(options.tokenEnvVar ?? DEFAULT_TOKEN_ENV_VAR)
              .filter((name) => env[name] !== undefined)
              .map(shownEnvName)
              .join(', ')}`;
    } else if (allowUnconfigured) {
      tokenOrigin = 'nowhere: allowUnconfigured lets EVERY request through';
      warnings.push(
        'allowUnconfigured is on and no token is configured: EVERY request is let through unchecked. ' +
          'Never run like this next to a Dapr sidecar in production.',
      );
    } else {
      throw new DaprAuthConfigError(describeMissingToken(options));
    }
  }

  return Object.freeze({
    tokenSource,
    healthCheckPath,
    exemptTokenlessDaprCalls,
    extractToken: options.extractToken,
    logRejections,
    rejectionLogLimit,
    maxTokenLength,
    jwt,
    unprotected,
    mode,
    metrics,
    rotationQuietPeriod,
    callers,
    allowForgeableCallers,
    sidecarApiCheck,
    tokenOrigin: tokenOrigin || 'none (JWT only)',
    warnings: Object.freeze(warnings),
  });
}
