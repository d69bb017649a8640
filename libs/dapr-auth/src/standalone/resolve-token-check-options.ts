import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import { OptionChecks } from '../option-checks.js';
import type { ResolvedDaprAuthOptions } from '../options/dapr-auth.options.js';
import { resolveDaprAuthOptions } from '../options/resolve-dapr-auth-options.js';
import type { DaprTokenCheckLogger, DaprTokenCheckOptions } from './dapr-token-check.js';

const SOURCE = 'createDaprTokenCheck';
/** Options of DaprAuthModule that need Nest. */
const NEST_ONLY = ['global', 'unprotected', 'callers', 'allowForgeableCallers', 'sidecarApiCheck', 'extractToken', 'jwt', 'mode', 'rotationQuietPeriod'];
const KNOWN = [
  'token',
  'tokenEnvVar',
  'tokenFile',
  'tokenFilePollInterval',
  'tokenFileGracePeriod',
  'tokenSource',
  'allowUnconfigured',
  'healthCheckPath',
  'exemptTokenlessDaprCalls',
  'tokenHeader',
  'maxTokenLength',
  'logRejections',
  'rejectionLogLimit',
  'metrics',
  'logger',
] satisfies Array<keyof DaprTokenCheckOptions>;

/** The module's start-up error, said as the check's. */
export function asCheckError(error: unknown): unknown {
  return error instanceof DaprAuthConfigError
    ? new DaprAuthConfigError(error.message.replace(/^DaprAuthModule: /, '').replaceAll('DaprAuthModule', SOURCE), SOURCE)
    : error;
}

/** Refuses what needs Nest, then checks the rest with the module's own code. */
export function resolveTokenCheckOptions(options: DaprTokenCheckOptions, logger: DaprTokenCheckLogger): ResolvedDaprAuthOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new DaprAuthConfigError('options must be an object.', SOURCE);
  for (const key of Object.keys(options)) {
    if ((KNOWN as string[]).includes(key)) continue;
    throw new DaprAuthConfigError(
      NEST_ONLY.includes(key)
        ? `option \`${key}\` needs DaprAuthModule: without Nest, only the token is checked (no caller rules, JWT, report-only mode, audit or status). Remove it.`
        : `unknown option \`${/^\w{1,40}$/.test(key) ? key : '(name not shown)'}\`. Known options: ${KNOWN.join(', ')}.`,
      SOURCE,
    );
  }
  const { logger: given, ...moduleOptions } = options;
  try {
    if (given !== undefined && !['log', 'warn', 'error'].every((level) => typeof (given as unknown as Record<string, unknown>)?.[level] === 'function')) {
      new OptionChecks().fail('logger', given, 'an object with log, warn and error methods');
    }
    return resolveDaprAuthOptions(moduleOptions, process.env, logger);
  } catch (error) {
    throw asCheckError(error);
  }
}
