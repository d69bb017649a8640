import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import type { DaprAuthModuleOptions } from '../options/dapr-auth.options.js';
import { resolveDaprAuthOptions } from '../options/resolve-dapr-auth-options.js';

/** Where the accepted token is configured: what `compare` checks against. */
export type ConfiguredTokenOrigin = Required<Pick<DaprAuthModuleOptions, 'tokenEnvVar'>> | Required<Pick<DaprAuthModuleOptions, 'tokenFile'>>;

/**
 * The accepted token as DaprAuthModule takes it at start-up, with its start-up warnings; or, when
 * the module would refuse to start with it, the module's own message (which never holds a token).
 */
export type ConfiguredToken = { token: string; warnings: readonly string[] } | { refusal: string };

/**
 * Reads the configured token through the module's own start-up checks (resolveDaprAuthOptions),
 * so that `compare` gives the module's verdict: an environment variable taken as is (a trailing
 * newline makes it invalid), a token file trimmed and read bounded, the same rules and messages.
 */
export function readConfiguredToken(origin: ConfiguredTokenOrigin, env: NodeJS.ProcessEnv = process.env): ConfiguredToken {
  let resolved;
  try {
    resolved = resolveDaprAuthOptions({ ...origin }, env);
  } catch (error) {
    // Without the error's own "DaprAuthModule: " prefix: the caller says whose verdict it is.
    if (error instanceof DaprAuthConfigError) return { refusal: error.message.replace(/^DaprAuthModule: /, '') };
    throw error;
  }
  const source = resolved.tokenSource;
  try {
    const [token] = source?.getTokens() ?? [];
    if (token === undefined) return { refusal: 'no token is configured.' };
    return { token, warnings: resolved.warnings };
  } finally {
    // A token file's source follows the file (a watch and a timer): one read is all compare needs.
    (source as { close?: () => void } | undefined)?.close?.();
  }
}
