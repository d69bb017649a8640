import {
  DEFAULT_HEALTH_CHECK_PATH,
  DEFAULT_MAX_TOKEN_LENGTH,
  DEFAULT_TOKEN_ENV_VAR,
  DEFAULT_TOKEN_FILE_GRACE_PERIOD,
  DEFAULT_TOKEN_FILE_POLL_INTERVAL,
} from '../dapr-auth.constants.js';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import { type AllowedCaller, parseAllowedCallers } from '../callers/caller-rule.js';
import { resolveJwtOptions } from '../jwt/resolve-jwt-options.js';
import { OptionChecks, shownEnvName, shownOptionName, shownPath } from '../option-checks.js';
import type { LineLogger } from '../optional-import.js';
import { FileTokenSource } from '../tokens/file-token-source.js';
import { StaticTokenSource } from '../tokens/static-token-source.js';
import { checkConfiguredToken, describeMissingToken, toList, tokensFromOptions } from './configured-tokens.js';
import type { DaprAuthMetricsOptions, DaprAuthModuleOptions, DaprRejectionLogLimit, ResolvedDaprAuthOptions } from './dapr-auth.options.js';
import { resolveTokenHeader } from './token-header.js';

const KNOWN_OPTIONS: ReadonlySet<string> = new Set<keyof DaprAuthModuleOptions>([
  'token',
  'tokenEnvVar',
  'tokenFile',
  'tokenFilePollInterval',
  'tokenFileGracePeriod',
  'tokenSource',
  'allowUnconfigured',
  'healthCheckPath',
  'tokenHeader',
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

/**
 * Validates the options and applies the defaults: ALL start-up validation lives here.
 *
 * @param tokenFileLogger where a `tokenFile` logs its changes (default: Nest's `Logger`)
 * @throws DaprAuthConfigError with a message naming the problem and the fix (never a token).
 */
export function resolveDaprAuthOptions(
  options: DaprAuthModuleOptions = {},
  env: NodeJS.ProcessEnv = process.env,
  tokenFileLogger?: LineLogger,
): ResolvedDaprAuthOptions {
  if (options === null || typeof options !== 'object') {
    throw new DaprAuthConfigError('options must be an object.');
  }
  const unknown = Object.keys(options).filter((key) => !KNOWN_OPTIONS.has(key));
  if (unknown.length > 0) {
    throw new DaprAuthConfigError(
      `unknown option(s) ${unknown.slice(0, 10).map(shownOptionName).join(', ')}. Known options: ${[...KNOWN_OPTIONS].join(', ')}` +
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
  const tokenHeader = resolveTokenHeader(options.tokenHeader);
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
      logger: tokenFileLogger,
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
    tokenHeader,
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
