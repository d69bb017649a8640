import { DEFAULT_TOKEN_ENV_VAR, RECOMMENDED_MIN_TOKEN_LENGTH } from '../dapr-auth.constants.js';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import { OptionChecks, shownEnvName } from '../option-checks.js';
import { isWellFormedToken } from '../tokens/token-format.js';
import type { DaprAuthModuleOptions } from './dapr-auth.options.js';

/**
 * The tokens the options configure directly (option `token`, or the environment variables of
 * `tokenEnvVar`), checked as daprd would need them, and the start-up message when there are none.
 */
const check = new OptionChecks();

export function toList<T>(value: T | readonly T[]): readonly T[] {
  return Array.isArray(value) ? value : [value as T];
}

export function checkConfiguredToken(token: unknown, origin: string, maxLength: number, warnings: string[]): string {
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

export function tokensFromOptions(options: DaprAuthModuleOptions, env: NodeJS.ProcessEnv, maxLength: number, warnings: string[]): string[] {
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

export function describeMissingToken(options: DaprAuthModuleOptions): string {
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
