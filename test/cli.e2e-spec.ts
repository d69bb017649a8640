import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { startExampleApp } from '../src/bootstrap.js';
import { send, testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { findLeak, registerSecret } from './support/secrets.js';

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

/** A run that must end by itself within `limitMs` (then killed: code null), standard input from `stdin` (a path) or empty. */
function runWithin(limitMs: number, args: string[], options: { env?: Record<string, string | undefined>; stdin?: string } = {}) {
  const stdinFd = options.stdin === undefined ? undefined : openSync(options.stdin, 'r');
  try {
    const result = spawnSync(process.execPath, [cli, ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...options.env },
      timeout: limitMs,
      killSignal: 'SIGKILL',
      ...(stdinFd === undefined ? { input: '' } : { stdio: [stdinFd, 'pipe', 'pipe'] }),
    });
    return { code: result.status, signal: result.signal, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
  } finally {
    if (stdinFd !== undefined) closeSync(stdinFd);
  }
}

/** FIFOs and /dev/zero: POSIX only. */
const onPosix = process.platform === 'win32' ? it.skip : it;

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
    for (const command of ['generate', 'sign', 'verify', 'compare'])
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
    expect(run(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command (not shown)') });
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
    // What the guard refuses in a header, compare refuses too: only HTTP's whitespace and echo's newline are trimmed.
    ['a BOM before the token', ['compare'], { env: { APP_API_TOKEN: accepted }, input: `\ufeff${accepted}` }, 1],
    ['a no-break space after the token', ['compare'], { env: { APP_API_TOKEN: accepted }, input: `${accepted}\u00a0` }, 1],
    ['U+2028 after the token', ['compare'], { env: { APP_API_TOKEN: accepted }, input: `${accepted}\u2028` }, 1],
    ['spaces and CRLF around the token', ['compare'], { env: { APP_API_TOKEN: accepted }, input: ` ${accepted}\r\n` }, 0],
  ] as const)('%s', (_name, args, options, code) => {
    const outcome = run(typeof args === 'function' ? args() : [...args], options as { env?: Record<string, string>; input?: string });
    expect(outcome.code).toBe(code);
    expect(outcome.stdout).toBe(code === 0 ? 'match' : 'no match');
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain('Zq8Wx3Ev');
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain('Lk2Jh5Gf');
  });

  it('a token typed where a name or an algorithm goes is never printed', () => {
    const token = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'; // base32: upper case and digits, shaped like a variable name
    for (const args of [
      ['compare', '--token-env', token],
      ['compare', '--accepted-env', token],
      ['sign', '--alg', `${accepted}`, '--secret-env', 'S'],
      [
        `${accepted
          .slice(0, 12)
          .toLowerCase()
          .replace(/[^a-z]/g, 'x')}`,
      ],
    ]) {
      const outcome = run(args, { env: { APP_API_TOKEN: accepted, S: 'x'.repeat(40) }, input: accepted });
      expect([2, 3]).toContain(outcome.code); // a usage error, or the module's refusal of an accepted token it cannot read
      expect(`${outcome.stdout}${outcome.stderr}`).not.toContain(token.slice(0, 8));
      expect(`${outcome.stdout}${outcome.stderr}`).not.toContain(accepted.slice(0, 8));
      expect(`${outcome.stdout}${outcome.stderr}`).not.toContain(
        accepted
          .slice(0, 12)
          .toLowerCase()
          .replace(/[^a-z]/g, 'x'),
      );
    }
  });

  it('usage errors: exit 2, nothing compared, nothing echoed', () => {
    expect(run(['compare', '--accepted-env', 'A', '--accepted-file', 'x'], { env: { A: accepted }, input: accepted }).code).toBe(2);
    expect(run(['compare', '--key', 'other'], { env: { APP_API_TOKEN: accepted }, input: accepted })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--key only applies with --secret-volume'),
    });
    expect(run(['compare', '--stdin-timeout', '0'], { env: { APP_API_TOKEN: accepted }, input: accepted })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--stdin-timeout must be a whole number of seconds from 1 to 600'),
    });
  });

  // G9 (a): compare read APP_API_TOKEN trimmed where the module does not, and said `match` for a
  // token the module refuses at start-up. Now the module's own start-up code reads it: "refused", exit 3.
  it.each([
    ['APP_API_TOKEN with a trailing space', ['compare'], { APP_API_TOKEN: `${accepted} ` }, /environment variable APP_API_TOKEN is not a valid token/],
    ['APP_API_TOKEN with a trailing newline', ['compare'], { APP_API_TOKEN: `${accepted}\n` }, /trailing newline from 'echo' or a file is the usual cause/],
    ['APP_API_TOKEN with a leading tab', ['compare'], { APP_API_TOKEN: `\t${accepted}` }, /APP_API_TOKEN is not a valid token/],
    ['an empty APP_API_TOKEN', ['compare'], { APP_API_TOKEN: '' }, /APP_API_TOKEN is empty/],
    ['no APP_API_TOKEN', ['compare'], { APP_API_TOKEN: undefined }, /environment variable APP_API_TOKEN is not set/],
    ['--accepted-env with a trailing newline', ['compare', '--accepted-env', 'A'], { A: `${accepted}\n` }, /environment variable A is not a valid token/],
    ['a Secret volume without the key', () => ['compare', '--secret-volume', dir, '--key', 'absent'], {}, /token file .*absent does not exist/],
    ['a missing Secret volume', ['compare', '--secret-volume', '/nonexistent-volume'], {}, /token file \/nonexistent-volume\/token does not exist/],
    ['an accepted file with two tokens', () => ['compare', '--accepted-file', join(dir, 'two')], {}, /does not hold a valid token/],
  ] as const)('%s: "refused" (exit 3), the module\'s reason on stderr, nothing compared', (_name, args, env, reason) => {
    writeFileSync(join(dir, 'two'), `${accepted} ${other}\n`);
    const outcome = runWithin(10_000, typeof args === 'function' ? args() : [...args], { env, stdin: join(dir, 'token') });
    expect(outcome).toMatchObject({ code: 3, stdout: 'refused' });
    expect(outcome.stderr).toMatch(/^nestjs-dapr-auth compare: refused: DaprAuthModule would not start with this accepted token: /);
    expect(outcome.stderr).toMatch(reason);
    expect(outcome.stderr.split('\n')).toHaveLength(1);
    expect(findLeak(`${outcome.stdout}${outcome.stderr}`)).toBeUndefined();
  });

  it("the same token without the whitespace: match; the module's start-up warnings on stderr", () => {
    expect(runWithin(10_000, ['compare'], { env: { APP_API_TOKEN: accepted }, stdin: join(dir, 'token') })).toMatchObject({
      code: 0,
      stdout: 'match',
      stderr: '',
    });
    registerSecret('short-token');
    const short = run(['compare'], { env: { APP_API_TOKEN: 'short-token' }, input: 'short-token' });
    expect(short).toMatchObject({ code: 0, stdout: 'match' });
    expect(short.stderr).toContain('DaprAuthModule would warn: environment variable APP_API_TOKEN is shorter than 16 characters');
    expect(short.stderr).not.toContain('short-token');
  });

  // G9 (b): every read is bounded in size and time; no file but a regular one is read.
  describe('reads that could hang or never end', () => {
    const fifo = () => join(dir, 'fifo');
    beforeAll(() => {
      if (process.platform !== 'win32') execFileSync('mkfifo', [fifo()]);
    });

    onPosix.each([
      ['compare --token-file', () => ['compare', '--token-file', fifo()], 2, /cannot read --token-file .*fifo: not a regular file/],
      ['compare --accepted-file', () => ['compare', '--accepted-file', fifo()], 3, /token file .*fifo cannot be read: it is not a regular file/],
      ['compare --secret-volume', () => ['compare', '--secret-volume', dir, '--key', 'fifo'], 3, /cannot be read: it is not a regular file/],
      [
        'verify --token-file',
        () => ['verify', '--alg', 'HS256', '--secret-env', 'S', '--token-file', fifo()],
        2,
        /cannot read --token-file .*: not a regular file/,
      ],
      ['verify --secret-file', () => ['verify', '--alg', 'HS256', '--secret-file', fifo()], 2, /cannot read --secret-file .*: not a regular file/],
    ] as const)('a FIFO nobody writes to, as %s: refused at once, not a hang', (_where, args, code, reason) => {
      const outcome = runWithin(4000, args(), { env: { APP_API_TOKEN: accepted, S: 'x'.repeat(32) } });
      expect(outcome.signal).toBeNull(); // not killed at the time limit: it ended by itself
      expect(outcome.code).toBe(code);
      expect(outcome.stderr).toMatch(reason);
    });

    onPosix.each([
      ['compare --token-file', ['compare', '--token-file', '/dev/zero'], undefined, 2, /cannot read --token-file \/dev\/zero: not a regular file/],
      ['compare --accepted-file', ['compare', '--accepted-file', '/dev/zero'], undefined, 3, /token file \/dev\/zero cannot be read: it is not a regular file/],
      ['compare, standard input', ['compare'], '/dev/zero', 2, /standard input holds more than 5120 bytes/],
      ['verify, standard input', ['verify', '--alg', 'HS256', '--secret-env', 'S'], '/dev/zero', 2, /standard input holds more than 5120 bytes/],
    ] as const)('/dev/zero as %s: a bounded, fast refusal', (_where, args, stdin, code, reason) => {
      const outcome = runWithin(4000, [...args], { env: { APP_API_TOKEN: accepted, S: 'x'.repeat(32) }, stdin });
      expect(outcome.signal).toBeNull();
      expect(outcome.code).toBe(code);
      expect(outcome.stderr).toMatch(reason);
    });

    it('a token file larger than any token: refused without reading it all', () => {
      writeFileSync(join(dir, 'huge'), Buffer.alloc(8 * 1024 * 1024, 'a'));
      expect(runWithin(4000, ['compare', '--token-file', join(dir, 'huge')], { env: { APP_API_TOKEN: accepted } })).toMatchObject({
        code: 2,
        signal: null,
        stderr: expect.stringContaining('larger than 5120 bytes'),
      });
      expect(runWithin(4000, ['compare', '--accepted-file', join(dir, 'huge')], { stdin: join(dir, 'token') })).toMatchObject({
        code: 3,
        signal: null,
        stderr: expect.stringContaining('it is larger than maxTokenLength plus 1024 bytes'),
      });
    });

    it('standard input a writer keeps open without writing: refused after --stdin-timeout, not a hang', async () => {
      const started = Date.now();
      const child = spawn(process.execPath, [cli, 'compare', '--stdin-timeout', '1'], { env: { ...process.env, APP_API_TOKEN: accepted }, stdio: 'pipe' });
      const killer = setTimeout(() => child.kill('SIGKILL'), 8000);
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
      clearTimeout(killer);
      child.stdin.destroy();
      expect(code).toBe(2);
      expect(stderr).toContain('standard input did not end within 1 s (--stdin-timeout)');
      expect(Date.now() - started).toBeLessThan(6000);
    });
  });

  // G9 (c): Node's own message for an unknown option quotes it: a token typed as `--<token>` was printed.
  it.each([
    ['compare', (secret: string) => ['compare', `--${secret}`]],
    ['compare, with a value', (secret: string) => ['compare', `--${secret}=x`]],
    ['compare, as a short option', (secret: string) => ['compare', `-${secret}`]],
    ['verify', (secret: string) => ['verify', '--alg', 'HS256', `--${secret}`]],
    ['verify, as --alg', (secret: string) => ['verify', '--alg', secret, '--secret-env', 'S']],
    ['sign', (secret: string) => ['sign', `--${secret}`]],
    ['generate', (secret: string) => ['generate', `--${secret}`]],
  ])('a token typed as an option to %s is never printed, not even in part', (_where, args) => {
    const secret = 'Qw3_typed-As-An-Option-Rt7Yu9Io0Pa2Sd4Fg6Hj8';
    registerSecret(secret);
    const outcome = run(args(secret), { env: { APP_API_TOKEN: accepted, S: 'x'.repeat(32) }, input: accepted });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/not shown/);
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain(secret);
    expect(findLeak(`${outcome.stdout}${outcome.stderr}`)).toBeUndefined();
  });
});
