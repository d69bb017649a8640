import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { startExampleApp } from '../src/bootstrap.js';
import { send, testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { registerSecret } from './support/secrets.js';

/**
 * The command-line tool as a user runs it, a real child process (`npx nestjs-dapr-auth` runs the
 * same file): generate -> sign -> verify -> use the token against the example app.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const libDir = join(root, 'libs/dapr-auth');
const cli = join(libDir, 'dist/esm/cli/cli.js');

function newestSource(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
      entry.isDirectory() ? newestSource(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs,
    ),
  );
}

/** Runs the CLI; never with a secret or token on the command line. */
function run(args: string[], options: { env?: Record<string, string>; input?: string } = {}) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...options.env }, input: options.input ?? '' });
  return { code: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}

describe('the nestjs-dapr-auth command-line tool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dapr-cli-'));
  const path = (name: string) => join(dir, name);

  beforeAll(() => {
    // The tool runs from the build; build it when the sources are newer (a fresh clone, an edit).
    let built: number;
    try {
      built = statSync(cli).mtimeMs;
    } catch {
      built = 0; // not built yet
    }
    if (built < newestSource(join(libDir, 'src'))) execFileSync('npm', ['run', 'build', '-w', 'nestjs-dapr-auth'], { cwd: root, stdio: 'ignore' });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints help for the tool and each command, with exit code 0', () => {
    expect(run(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Commands:') });
    for (const command of ['generate', 'sign', 'verify'])
      expect(run([command, '--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining(`Usage: nestjs-dapr-auth ${command}`) });
  });

  it('generate: 32 random bytes as base64url, different every time', () => {
    const first = run(['generate']);
    const second = run(['generate']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second.stdout).not.toBe(first.stdout);
    registerSecret(first.stdout, second.stdout);
  });

  it('refuses secrets and tokens as arguments, and other usage errors, with exit code 2', () => {
    expect(run(['sign', '--alg', 'HS256', '--secret', 'abc'])).toMatchObject({ code: 2, stderr: expect.stringContaining('never taken as arguments') });
    expect(run(['verify', '--alg', 'HS256', '--token', 'abc'])).toMatchObject({ code: 2, stderr: expect.stringContaining('never taken as arguments') });
    expect(run(['sign', '--secret-env', 'NOPE_NOT_SET'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--alg is required') });
    expect(run(['sign', '--alg', 'HS256', '--secret-env', 'NOPE_NOT_SET'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('NOPE_NOT_SET (--secret-env) is not set'),
    });
    expect(run(['sign', '--alg', 'HS256', '--secret-env', 'SHORT'], { env: { SHORT: 'x'.repeat(20) } })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('shorter than the 32 bytes HS256 needs'),
    });
    expect(run(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "frobnicate"') });
  });

  // F6: a token pasted where a command, a variable name or a path belongs is never echoed.
  it.each([
    ['as the command', ['Xy7_tokenLike-Secret0123456789abcdefghiJKLM']],
    ['as --secret-env', ['sign', '--alg', 'HS256', '--secret-env', 'Xy7_tokenLike-Secret0123456789abcdefghiJKLM']],
    ['as --key-env', ['sign', '--alg', 'ES256', '--key-env', 'Xy7_tokenLike-Secret0123456789abcdefghiJKLM']],
    ['as --token-env', ['verify', '--alg', 'HS256', '--secret-env', 'S', '--token-env', 'Xy7_tokenLike-Secret0123456789abcdefghiJKLM']],
    ['as --secret-file', ['sign', '--alg', 'HS256', '--secret-file', 'Xy7_tokenLike-Secret0123456789abcdefghiJKLM']],
    ['as --token-file', ['verify', '--alg', 'HS256', '--secret-env', 'S', '--token-file', 'Xy7_tokenLike-Secret0123456789abcdefghiJKLM']],
  ])('a token %s is not echoed', (_where, args) => {
    const outcome = run(args, { env: { S: 'x'.repeat(32) } });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/not shown/);
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain('tokenLike');
  });

  it('usage and configuration errors: exit 2, one line, no stack trace, never the content of a file or an argument', () => {
    writeFileSync(path('not-json.jwks'), '{"keys": [SECRET-LOOKING-CONTENT');
    const cases = [
      run([]),
      run(['frobnicate']),
      run(['verify', '--alg', 'ES256', '--jwks-file', path('absent.jwks')], { input: 'x' }),
      run(['verify', '--alg', 'ES256', '--jwks-file', path('not-json.jwks')], { input: 'x' }),
      run(['verify', 'eyJhbGciOiJIUzI1NiJ9.POSITIONAL-TOKEN.sig']),
      run(['verify', '--alg', 'HS256', '--secret-env', 'S', '--clock-tolerance', 'soon'], { env: { S: 'x'.repeat(32) }, input: 'x' }),
    ];
    for (const outcome of cases) {
      expect(outcome.code).toBe(2);
      expect(outcome.stdout).toBe('');
      expect(outcome.stderr.split('\n')).toHaveLength(1);
      expect(outcome.stderr).toMatch(/^nestjs-dapr-auth[ :]/);
      expect(outcome.stderr).not.toMatch(/\n\s+at |SECRET-LOOKING|POSITIONAL-TOKEN/);
    }
    expect(cases[0].stderr).toContain('give a command: generate, sign, verify or compare');
    expect(cases[2].stderr).toContain('cannot read --jwks-file');
    expect(cases[3].stderr).toContain('is not JSON');
    expect(cases[4].stderr).toContain('takes no positional arguments');
    expect(cases[5].stderr).toContain('`jwt.clockTolerance` must be 0 or more seconds, or a time span');
  });

  it('verify takes --clock-tolerance and --max-age as the module does: seconds or a time span', () => {
    const secret = randomBytes(32).toString('base64url');
    registerSecret(secret);
    const env = { S: secret };
    const token = run(['sign', '--alg', 'HS256', '--secret-env', 'S', '--exp', '1h'], { env }).stdout;
    registerSecret(token);
    for (const [tolerance, age] of [
      ['30s', '1 day'],
      ['30', '86400'],
      ['2 minutes', '1y'],
    ]) {
      expect(run(['verify', '--alg', 'HS256', '--secret-env', 'S', '--clock-tolerance', tolerance, '--max-age', age], { env, input: token })).toMatchObject({
        code: 0,
      });
    }
  });

  it('runs as `npx nestjs-dapr-auth` in this repository: npm ci links the command, which builds the library if it is not built yet', () => {
    const bin = join(root, 'node_modules/.bin/nestjs-dapr-auth');
    const result = spawnSync(bin, ['generate'], { encoding: 'utf8', cwd: root });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    registerSecret(result.stdout.trim());
  });

  it('HS256: sign from an env var, verify from a file, and say why a token fails', () => {
    const secret = randomBytes(32).toString('base64url');
    registerSecret(secret);
    writeFileSync(path('hs.secret'), `${secret}\n`);
    const signed = run(['sign', '--alg', 'HS256', '--secret-env', 'APP_JWT_SECRET', '--iss', 'dapr', '--aud', 'orders', '--sub', 'checkout', '--exp', '30d'], {
      env: { APP_JWT_SECRET: secret },
    });
    expect(signed.code).toBe(0);
    registerSecret(signed.stdout);
    writeFileSync(path('hs.jwt'), signed.stdout);

    const valid = run(['verify', '--alg', 'HS256', '--secret-file', path('hs.secret'), '--iss', 'dapr', '--aud', 'orders', '--token-file', path('hs.jwt')]);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toMatch(/^valid\n/);
    const claims = JSON.parse(valid.stdout.slice('valid\n'.length));
    expect(claims).toMatchObject({ iss: 'dapr', aud: 'orders', sub: 'checkout' });
    expect(claims.exp - claims.iat).toBe(30 * 86400);

    expect(run(['verify', '--alg', 'HS256', '--secret-file', path('hs.secret'), '--aud', 'payments'], { input: signed.stdout })).toEqual({
      code: 1,
      stdout: 'invalid: wrong audience (aud)',
      stderr: '',
    });
    expect(run(['verify', '--alg', 'RS256', '--secret-file', path('hs.secret')], { input: signed.stdout })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('RS256 is not an HMAC algorithm'),
    });
  });

  it('ES256: sign with a private key file, verify with the public key, then use the token against the example app', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(path('es.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(path('es.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const signed = run(['sign', '--alg', 'ES256', '--key-file', path('es.key'), '--iss', 'dapr', '--aud', 'orders', '--exp', '1h']);
    expect(signed.code).toBe(0);
    const token = signed.stdout;
    registerSecret(token);
    expect(run(['verify', '--alg', 'ES256', '--public-key-file', path('es.pub'), '--iss', 'dapr'], { input: token }).code).toBe(0);

    const saved = { ...process.env };
    Object.assign(process.env, {
      JWT_ALGORITHMS: 'ES256',
      JWT_PUBLIC_KEY_FILE: path('es.pub'),
      JWT_ISSUER: 'dapr',
      JWT_AUDIENCE: 'orders',
      // The example's @DaprCallers route: what daprd's own API requires of its clients.
      DAPR_API_TOKEN: 'cli-test-dapr-api-token-0123456789',
    });
    delete process.env.APP_API_TOKEN;
    let app: INestApplication | undefined;
    try {
      const started = await startExampleApp({ httpPort: await freePort(), grpcPort: await freePort(), metricsPort: false, logger: testLogger() });
      app = started.app;
      const order = (headers: Record<string, string>) =>
        send(started.httpUrl, '/orders', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"item":"tea"}' });
      expect((await order({ 'dapr-api-token': token })).status).toBe(201);
      expect((await order({})).status).toBe(401);
      const forged = run(['sign', '--alg', 'HS256', '--secret-env', 'S', '--iss', 'dapr', '--aud', 'orders'], { env: { S: 'x'.repeat(32) } }).stdout;
      registerSecret(forged);
      expect((await order({ 'dapr-api-token': forged })).status).toBe(401);
    } finally {
      await app?.close();
      process.env = saved;
    }
  });
});

describe('nestjs-dapr-auth compare: opaque tokens, as the guard compares them', () => {
  const accepted = 'cmp-Zq8Wx3Ev6Rt1Yu4Io7Pa2Sd5Fg9Hj0Kl3Mn6Bv';
  const other = 'cmp-Lk2Jh5Gf8Ds1Aq4Wz7Ex0Rc3Tv6By9Un2Mi5Op';
  registerSecret(accepted, other);
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dapr-compare-'));
    writeFileSync(join(dir, 'token'), `${accepted}\n`); // a Secret key file, as kubectl creates it from a file with a newline
    writeFileSync(join(dir, 'other'), other);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['APP_API_TOKEN (the default), token on standard input', ['compare'], { env: { APP_API_TOKEN: accepted }, input: accepted }, 0],
    ['APP_API_TOKEN, another token', ['compare'], { env: { APP_API_TOKEN: accepted }, input: other }, 1],
    ['a Secret volume (key token)', () => ['compare', '--secret-volume', dir], { input: `${accepted}\n` }, 0],
    ['a Secret volume, another key', () => ['compare', '--secret-volume', dir, '--key', 'other'], { input: accepted }, 1],
    ['--accepted-file, the token from --token-env', () => ['compare', '--accepted-file', join(dir, 'token'), '--token-env', 'T'], { env: { T: accepted } }, 0],
    ['--accepted-env, a token of another length', ['compare', '--accepted-env', 'A'], { env: { A: accepted }, input: accepted.slice(1) }, 1],
    ['a malformed token', ['compare'], { env: { APP_API_TOKEN: accepted }, input: `${accepted} x` }, 1],
  ] as const)('%s', (_name, args, options, code) => {
    const outcome = run(typeof args === 'function' ? args() : [...args], options as { env?: Record<string, string>; input?: string });
    expect(outcome.code).toBe(code);
    expect(outcome.stdout).toBe(code === 0 ? 'match' : 'no match');
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain('Zq8Wx3Ev');
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain('Lk2Jh5Gf');
  });

  it('usage errors: exit 2, nothing compared, nothing echoed', () => {
    expect(run(['compare'], { env: { APP_API_TOKEN: '' }, input: accepted })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('APP_API_TOKEN is not set'),
    });
    expect(run(['compare', '--secret-volume', '/nonexistent-volume'], { input: accepted })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('cannot read --secret-volume'),
    });
    expect(run(['compare', '--accepted-env', 'A', '--accepted-file', 'x'], { env: { A: accepted }, input: accepted }).code).toBe(2);
  });
});
