import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { DaprAuthModuleOptions } from 'nestjs-dapr-auth';
import { testLogger } from './support/http.js';
import { httpTestModuleWith } from './support/http-test-app.js';
import { capturedOutput, findLeak, registerSecret } from './support/secrets.js';
import { TOKEN } from './support/tokens.js';

/**
 * Every way to misconfigure the module, through a real NestFactory.create: the app does not start
 * (or, for a short token, starts with a warning); the message names the problem AND the fix; no
 * token, or part of one, appears in the error or anywhere in the output.
 */
const dir = mkdtempSync(join(tmpdir(), 'dapr-misconfig-'));
const file = (name: string, content: string) => {
  writeFileSync(join(dir, name), content);
  return join(dir, name);
};
const SHORT = 'tiny-token';
const WITH_BELL = `${TOKEN.slice(0, 20)}\u0007${TOKEN.slice(20)}`;
registerSecret(SHORT, WITH_BELL);

interface Case {
  what: string;
  options: DaprAuthModuleOptions;
  env?: Record<string, string | undefined>;
  problem: RegExp;
  fix: RegExp;
}

const FAILS: Case[] = [
  {
    what: 'no token anywhere',
    options: {},
    env: { APP_API_TOKEN: undefined },
    problem: /environment variable APP_API_TOKEN is not set/,
    fix: /Set it to the same value as the Dapr sidecar's APP_API_TOKEN/,
  },
  {
    what: 'an empty APP_API_TOKEN',
    options: {},
    env: { APP_API_TOKEN: '' },
    problem: /APP_API_TOKEN is empty/,
    fix: /Set it to the same value as the Dapr sidecar's APP_API_TOKEN/,
  },
  { what: 'a whitespace-only APP_API_TOKEN', options: {}, env: { APP_API_TOKEN: ' \t ' }, problem: /APP_API_TOKEN is empty/, fix: /Set it to the same value/ },
  {
    what: 'a trailing newline',
    options: {},
    env: { APP_API_TOKEN: `${TOKEN}\n` },
    problem: /APP_API_TOKEN is not a valid token/,
    fix: /trailing newline from 'echo' or a file/,
  },
  {
    what: 'a non-printable character',
    options: {},
    env: { APP_API_TOKEN: WITH_BELL },
    problem: /APP_API_TOKEN is not a valid token/,
    fix: /visible ASCII characters, without spaces/,
  },
  { what: 'a non-printable character in `token`', options: { token: WITH_BELL }, problem: /option `token` is not a valid token/, fix: /visible ASCII/ },
  { what: 'a token longer than maxTokenLength', options: { token: TOKEN, maxTokenLength: 16 }, problem: /not a valid token/, fix: /raise maxTokenLength/ },
  {
    what: 'an unknown option',
    options: { tokn: TOKEN } as DaprAuthModuleOptions,
    problem: /unknown option\(s\) `tokn`/,
    fix: /Known options: token, tokenEnvVar/,
  },
  {
    what: 'token and tokenEnvVar together',
    options: { token: TOKEN, tokenEnvVar: 'X' },
    problem: /`token` and `tokenEnvVar` each say where the token comes from/,
    fix: /keep one/,
  },
  {
    what: 'tokenFile and tokenSource together',
    options: { tokenFile: '/x', tokenSource: { getTokens: () => [TOKEN] } },
    problem: /`tokenFile` and `tokenSource`/,
    fix: /keep one/,
  },
  {
    what: 'a missing token file',
    options: { tokenFile: join(dir, 'absent') },
    problem: /token file .*absent does not exist/,
    fix: /Point `tokenFile` at the file .* without subPath/,
  },
  { what: 'an empty token file', options: { tokenFile: file('empty', '\n') }, problem: /token file .*empty is empty/, fix: /Point `tokenFile` at the file/ },
  {
    what: 'a token file with two tokens in it',
    options: { tokenFile: file('two', `${TOKEN}\n${TOKEN}\n`) },
    problem: /does not hold a valid token/,
    fix: /Point `tokenFile` at the file/,
  },
  {
    what: 'tokenFileGracePeriod without tokenFile',
    options: { token: TOKEN, tokenFileGracePeriod: 1 },
    problem: /only applies with `tokenFile`/,
    fix: /set tokenFile or remove it/,
  },
  {
    what: 'a relative healthCheckPath',
    options: { token: TOKEN, healthCheckPath: 'healthz' },
    problem: /healthCheckPath/,
    fix: /starting with "\/".*The same as daprd's --app-health-check-path/,
  },
  {
    what: 'an unknown log level',
    options: { token: TOKEN, logRejections: 'loud' as never },
    problem: /logRejections/,
    fix: /false or one of log, error, warn/,
  },
];

describe('misconfiguration', () => {
  const savedEnv = { ...process.env };
  afterEach(() => {
    process.env = { ...savedEnv };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(FAILS.map((c) => [c.what, c]))('%s: the app does not start, and the message names the problem and the fix', async (_what, c) => {
    for (const [name, value] of Object.entries(c.env ?? { APP_API_TOKEN: undefined })) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    const starting = NestFactory.create(httpTestModuleWith({ ...c.options, global: true }), { logger: testLogger(), abortOnError: false });
    const error = await starting.then(
      async (app) => {
        await app.close();
        return undefined;
      },
      (caught: Error) => caught,
    );
    expect(error?.name).toBe('DaprAuthConfigError');
    expect(error?.message).toMatch(c.problem);
    expect(error?.message).toMatch(c.fix);
    expect(findLeak(`${error?.message}\n${error?.stack}\n${capturedOutput()}`)).toBeUndefined();
  });

  it('a very short token: the app starts, with a warning that says how to generate a real one, without the token', async () => {
    const app = await NestFactory.create(httpTestModuleWith({ token: SHORT, global: true }), { logger: testLogger(), abortOnError: false });
    await app.init();
    await app.close();
    expect(capturedOutput()).toMatch(/option `token` is shorter than 16 characters and easy to guess; generate one with: node -e/);
    expect(findLeak(capturedOutput())).toBeUndefined();
  });
});
