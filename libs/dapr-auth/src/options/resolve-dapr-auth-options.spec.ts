import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import { FileTokenSource } from '../tokens/file-token-source.js';
import type { DaprAuthModuleOptions } from './dapr-auth.options.js';
import { resolveDaprAuthOptions } from './resolve-dapr-auth-options.js';

const GOOD = 'a-good-token-of-32-characters-xx';

function errorOf(options: unknown, env: NodeJS.ProcessEnv = {}): DaprAuthConfigError {
  try {
    resolveDaprAuthOptions(options as DaprAuthModuleOptions, env);
  } catch (error) {
    expect(error).toBeInstanceOf(DaprAuthConfigError);
    return error as DaprAuthConfigError;
  }
  throw new Error('expected a DaprAuthConfigError');
}

describe('resolveDaprAuthOptions', () => {
  it('applies the defaults and reads APP_API_TOKEN', () => {
    const resolved = resolveDaprAuthOptions({}, { APP_API_TOKEN: GOOD });
    expect(resolved.tokenSource?.getTokens()).toEqual([GOOD]);
    expect(resolved).toMatchObject({
      healthCheckPath: '/healthz',
      exemptTokenlessDaprCalls: true,
      logRejections: 'warn',
      maxTokenLength: 4096,
      extractToken: undefined,
      unprotected: 'warn',
      warnings: [],
    });
  });

  it('`token` takes a string or a list; tokenEnvVar a name or a list', () => {
    expect(resolveDaprAuthOptions({ token: GOOD }, {}).tokenSource?.getTokens()).toEqual([GOOD]);
    expect(resolveDaprAuthOptions({ token: [GOOD, `${GOOD}2`] }, {}).tokenSource?.getTokens()).toEqual([GOOD, `${GOOD}2`]);
    expect(resolveDaprAuthOptions({ tokenEnvVar: ['A', 'B', 'C'] }, { A: GOOD, C: `${GOOD}c` }).tokenSource?.getTokens()).toEqual([GOOD, `${GOOD}c`]);
  });

  it('limits the rejection log to 10 lines per 10 s by default; false turns the limit off', () => {
    expect(resolveDaprAuthOptions({ token: GOOD }, {}).rejectionLogLimit).toEqual({ lines: 10, windowMs: 10_000 });
    expect(resolveDaprAuthOptions({ token: GOOD, rejectionLogLimit: { lines: 3 } }, {}).rejectionLogLimit).toEqual({ lines: 3, windowMs: 10_000 });
    expect(resolveDaprAuthOptions({ token: GOOD, rejectionLogLimit: false }, {}).rejectionLogLimit).toBeUndefined();
  });

  it('returns the same snapshot array on every call (the guard builds its token set once)', () => {
    const source = resolveDaprAuthOptions({ token: GOOD }, {}).tokenSource!;
    expect(source.getTokens()).toBe(source.getTokens());
    expect(Object.isFrozen(source.getTokens())).toBe(true);
  });

  it.each<[string, unknown, NodeJS.ProcessEnv, RegExp]>([
    ['no token anywhere', {}, {}, /environment variable APP_API_TOKEN is not set.*`tokenFile`.*`token` or `tokenSource`.*allowUnconfigured/],
    ['a custom variable unset', { tokenEnvVar: 'MY_TOKEN' }, {}, /environment variable MY_TOKEN is not set/],
    ['none of several variables set', { tokenEnvVar: ['A', 'B'] }, {}, /environment variable A or B is not set/],
    ['an empty variable', {}, { APP_API_TOKEN: '' }, /APP_API_TOKEN is empty/],
    ['a whitespace-only variable', {}, { APP_API_TOKEN: '   ' }, /APP_API_TOKEN is empty/],
    ['a trailing newline', {}, { APP_API_TOKEN: `${GOOD}\n` }, /not a valid token.*trailing newline/],
    ['a non-printable character', {}, { APP_API_TOKEN: `${GOOD}\u0007` }, /not a valid token/],
    ['a non-ASCII character', { token: `${GOOD}\u00e9` }, {}, /option `token` is not a valid token/],
    ['a token longer than maxTokenLength', { token: GOOD, maxTokenLength: 8 }, {}, /raise maxTokenLength/],
    ['an empty token list', { token: [] }, {}, /empty list/],
    ['a non-string token', { token: [GOOD, 42] }, {}, /option `token`\[1\] must be a string, got number/],
    ['an unknown option', { tokn: GOOD }, {}, /unknown option\(s\) `tokn`/],
    ['token and tokenSource together', { token: GOOD, tokenSource: { getTokens: () => [] } }, {}, /`token` and `tokenSource`.*keep one/],
    ['token and tokenEnvVar together', { token: GOOD, tokenEnvVar: 'X' }, {}, /`token` and `tokenEnvVar`/],
    ['a tokenSource without getTokens', { tokenSource: {} }, {}, /must be a DaprTokenSource: an object with a getTokens\(\) method, got an object/],
    ['an empty tokenEnvVar', { tokenEnvVar: '' }, {}, /tokenEnvVar/],
    ['a relative healthCheckPath', { token: GOOD, healthCheckPath: 'healthz' }, {}, /healthCheckPath.*start/],
    ['an unknown log level', { token: GOOD, logRejections: 'loud' }, {}, /logRejections/],
    ['a bad maxTokenLength', { token: GOOD, maxTokenLength: 0 }, {}, /maxTokenLength/],
    [
      'rejectionLogLimit: true',
      { token: GOOD, rejectionLogLimit: true },
      {},
      /option `rejectionLogLimit` must be false or \{ lines, windowMs \}, got boolean true/,
    ],
    [
      'rejectionLogLimit with a misspelt key',
      { token: GOOD, rejectionLogLimit: { line: 5 } },
      {},
      /`rejectionLogLimit` must be false or \{ lines, windowMs \}.*Unknown key\(s\): line\./,
    ],
    ['rejectionLogLimit with 0 lines', { token: GOOD, rejectionLogLimit: { lines: 0 } }, {}, /option `rejectionLogLimit\.lines` must be/],
    [
      'rejectionLogLimit with a 10 ms window',
      { token: GOOD, rejectionLogLimit: { windowMs: 10 } },
      {},
      /`rejectionLogLimit\.windowMs` must be a number of milliseconds from 100/,
    ],
    ['a non-function extractToken', { token: GOOD, extractToken: 'header' }, {}, /extractToken/],
    ['options that are not an object', 'token', {}, /options must be an object/],
    ['tokenFile and token together', { tokenFile: '/x', token: GOOD }, {}, /`token` and `tokenFile`.*keep one/],
    ['tokenFile and tokenSource together', { tokenFile: '/x', tokenSource: { getTokens: () => [] } }, {}, /`tokenFile` and `tokenSource`/],
    ['an empty tokenFile', { tokenFile: '' }, {}, /`tokenFile` must be the path/],
    ['a tokenFile that does not exist', { tokenFile: '/nonexistent/dapr/token' }, {}, /token file \/nonexistent\/dapr\/token does not exist.*without subPath/],
    ['tokenFileGracePeriod without tokenFile', { token: GOOD, tokenFileGracePeriod: 1000 }, {}, /`tokenFileGracePeriod` only applies with `tokenFile`/],
    ['a negative tokenFileGracePeriod', { tokenFile: '/x', tokenFileGracePeriod: -1 }, {}, /tokenFileGracePeriod.*from 0 to 2147483647.*got number -1/],
    ['a tiny tokenFilePollInterval', { tokenFile: '/x', tokenFilePollInterval: 5 }, {}, /tokenFilePollInterval.*from 100 to 2147483647.*got number 5/],
    // Types and ranges: what ConfigService or a typo hands over is refused, never half-used.
    [
      'the string "false" for allowUnconfigured',
      { allowUnconfigured: 'false' },
      {},
      /option `allowUnconfigured` must be true or false, got a string\. A string such as "false" from an environment variable is not a boolean/,
    ],
    [
      'the string "false" for exemptTokenlessDaprCalls',
      { token: GOOD, exemptTokenlessDaprCalls: 'false' },
      {},
      /option `exemptTokenlessDaprCalls` must be true or false, got a string/,
    ],
    [
      'a number for exemptTokenlessDaprCalls',
      { token: GOOD, exemptTokenlessDaprCalls: 0 },
      {},
      /`exemptTokenlessDaprCalls` must be true or false, got number 0/,
    ],
    [
      'a 30-day grace period (past what a timer can wait)',
      { tokenFile: '/x', tokenFileGracePeriod: 30 * 86_400_000 },
      {},
      /tokenFileGracePeriod.*to 2147483647 \(about 24\.8 days.*got number 2592000000/,
    ],
    ['a poll interval as a string', { tokenFile: '/x', tokenFilePollInterval: '5000' }, {}, /tokenFilePollInterval.*got a string/],
    [
      'an infinite maxTokenLength',
      { token: GOOD, maxTokenLength: Infinity },
      {},
      /`maxTokenLength` must be a whole number from 1 to 65536, got number Infinity/,
    ],
    ['a huge maxTokenLength', { token: GOOD, maxTokenLength: 1e9 }, {}, /`maxTokenLength` must be a whole number from 1 to 65536, got number 1000000000/],
    ['a fractional maxTokenLength', { token: GOOD, maxTokenLength: 10.5 }, {}, /`maxTokenLength` must be a whole number/],
    ['a number as tokenEnvVar', { tokenEnvVar: 42 }, {}, /`tokenEnvVar` must be an environment variable name, or a non-empty list of them, got number 42/],
    ['an unknown unprotected policy', { token: GOOD, unprotected: 'loud' }, {}, /`unprotected` must be one of 'warn', 'error', 'ignore', got a string/],
    ['a jwt that is not an object', { jwt: 'HS256' }, {}, /`jwt` must be an object/],
    ['a number as healthCheckPath', { token: GOOD, healthCheckPath: 8080 }, {}, /`healthCheckPath` must be a path starting with "\/", got number 8080/],
  ])('refuses %s, naming the problem', (_case, options, env, message) => {
    const error = errorOf(options, env);
    expect(error.message).toMatch(/^DaprAuthModule: /);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(GOOD);
  });

  it('allowUnconfigured: starts without a source and warns', () => {
    const resolved = resolveDaprAuthOptions({ allowUnconfigured: true }, {});
    expect(resolved.tokenSource).toBeUndefined();
    expect(resolved.warnings.join()).toMatch(/EVERY request is let through/);
  });

  it('allowUnconfigured does not weaken a configured token', () => {
    const resolved = resolveDaprAuthOptions({ allowUnconfigured: true }, { APP_API_TOKEN: GOOD });
    expect(resolved.tokenSource?.getTokens()).toEqual([GOOD]);
    expect(resolved.warnings).toEqual([]);
  });

  it('tokenFile: reads the file, trimmed, warns about a short token, and follows the file until closed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dapr-options-'));
    try {
      writeFileSync(join(dir, 'token'), `${GOOD}\n`);
      const resolved = resolveDaprAuthOptions(
        { tokenFile: join(dir, 'token'), tokenFilePollInterval: 1000, tokenFileGracePeriod: 0 },
        { APP_API_TOKEN: 'ignored-because-tokenFile-is-set' },
      );
      expect(resolved.tokenSource).toBeInstanceOf(FileTokenSource);
      expect(resolved.tokenSource?.getTokens()).toEqual([GOOD]);
      resolved.tokenSource?.close?.();

      writeFileSync(join(dir, 'token'), 'short-secret');
      const short = resolveDaprAuthOptions({ tokenFile: join(dir, 'token') }, {});
      short.tokenSource?.close?.();
      expect(short.warnings.join()).toMatch(/token file .* is shorter than 16 characters/);
      expect(short.warnings.join()).not.toContain('short-secret');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warns about a short token without including it', () => {
    const resolved = resolveDaprAuthOptions({ token: 'short-secret' }, {});
    expect(resolved.warnings).toHaveLength(1);
    expect(resolved.warnings[0]).toMatch(/shorter than 16 characters/);
    expect(resolved.warnings[0]).not.toContain('short-secret');
  });

  // F6: a token put where a name or a path belongs is a plausible mistake: never echoed.
  it.each<[string, object]>([
    ['tokenEnvVar', { tokenEnvVar: GOOD }],
    ['tokenEnvVar, lower-case', { tokenEnvVar: 'sk_live_tokenlike' }],
    ['tokenEnvVar, a list', { tokenEnvVar: ['APP_API_TOKEN', GOOD] }],
    ['tokenFile', { tokenFile: GOOD }],
    ['tokenFile, base64 with a slash', { tokenFile: `/${GOOD}+x=` }],
  ])('a token in %s is not echoed in the error', (_name, options) => {
    let message = '';
    try {
      resolveDaprAuthOptions(options, {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/not shown/);
    expect(message).not.toContain(GOOD);
    expect(message).not.toContain('tokenlike');
  });

  it('names and paths that look like names and paths are shown', () => {
    expect(() => resolveDaprAuthOptions({ tokenEnvVar: 'ORDERS_APP_TOKEN' }, {})).toThrow(/environment variable ORDERS_APP_TOKEN is not set/);
    expect(() => resolveDaprAuthOptions({ tokenFile: './secrets/absent-token' }, {})).toThrow(/token file \.\/secrets\/absent-token/);
  });
});
