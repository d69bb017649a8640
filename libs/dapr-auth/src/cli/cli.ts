#!/usr/bin/env node
// `npx nestjs-dapr-auth <generate|sign|verify|compare>`: make and check Dapr app API tokens.
// Secrets and keys are read from files or environment variables, never from arguments (those
// land in shell history and in `ps`), every read bounded in size and time (bounded-input.ts).
// Exit codes: 0 done / valid, 1 token invalid, 2 usage error, 3 (compare) DaprAuthModule would
// refuse the accepted token.
import { randomBytes, createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import type { DaprJwtOptions } from '../jwt/dapr-jwt.options.js';
import { resolveJwtOptions } from '../jwt/resolve-jwt-options.js';
import { JWT_FAILURE_TEXT, JwtVerifier } from '../jwt/jwt-verifier.js';
import { isWellFormedToken } from '../tokens/token-format.js';
import { TokenSet } from '../tokens/token-set.js';
import { DEFAULT_MAX_TOKEN_LENGTH } from '../dapr-auth.constants.js';
import { shownEnvName, shownPath } from '../option-checks.js';
import { describeArgumentError } from './argument-errors.js';
import { KEY_INPUT_LIMIT, readFileOption, readStandardInput, stdinTimeoutSeconds, TOKEN_INPUT_LIMIT } from './bounded-input.js';
import type { ConfiguredTokenOrigin } from './configured-token.js';
import { UsageError } from './usage-error.js';

const COMMANDS: readonly string[] = ['generate', 'sign', 'verify', 'compare'];
/** Exit code of `compare` when DaprAuthModule would refuse the accepted token (it would not start). */
const EXIT_REFUSED_BY_MODULE = 3;
/** What an algorithm name looks like (HS256, ES256K, EdDSA...): another value, maybe a token, is not echoed. */
const ALGORITHM_SHAPE = /^[A-Za-z]{2,5}\d{0,5}K?$/;
/** What a command looks like: a short lower-case word (a token pasted in its place is not echoed). */

const HELP: Record<string, string> = {
  main: `Usage: nestjs-dapr-auth <command> [options]

Commands:
  generate   print a new opaque token (32 random bytes, base64url)
  sign       sign a JWT to use as the app API token
  verify     check a token the way DaprAuthModule's \`jwt\` option does, and say why it fails
  compare    check an opaque token against the accepted one (APP_API_TOKEN, a file, a Secret volume)

Run \`nestjs-dapr-auth <command> --help\` for its options. Exit codes: 0 ok, 1 invalid token, 2 usage error,
3 (compare) DaprAuthModule would refuse the accepted token.`,
  generate: `Usage: nestjs-dapr-auth generate [--bytes <n>]

Prints a random token (default 32 bytes, base64url: 43 characters), e.g.
  kubectl create secret generic app-api-token --from-literal=token="$(npx nestjs-dapr-auth generate)"`,
  sign: `Usage: nestjs-dapr-auth sign --alg <alg> <key> [claims]

Key (one; never on the command line):
  --secret-file <path>   HMAC secret (HS256/384/512), at least 32/48/64 bytes
  --secret-env <name>    ... from this environment variable
  --key-file <path>      private key, PEM (PKCS#8), for RS*/PS*/ES*/EdDSA
  --key-env <name>       ... from this environment variable
Claims:
  --iss <issuer>  --aud <audience>  --sub <subject>  --kid <key id>
  --exp <span>    lifetime, e.g. 30d, 12h, 15m (default 1h; the module requires exp by default)
Prints the JWT.`,
  verify: `Usage: nestjs-dapr-auth verify --alg <alg[,alg]> <key> [checks] [token]

Token (never on the command line): --token-file <path>, --token-env <name>, or standard input
  (read for at most --stdin-timeout <seconds>, default 10).
Key (one):
  --secret-file <path> | --secret-env <name>            HMAC secret
  --public-key-file <path> | --public-key-env <name>    PEM public key
  --jwks-file <path>                                    a local JWKS
  --jwks-uri <url>                                      a remote JWKS
Checks: --iss <issuer>  --aud <audience>  --clock-tolerance <span>  --max-age <span>  --require <claim,claim>
  (a span is seconds, or a time span as the module's options take it: 30s, 5 minutes, 1h, 2 days, 1w, 1 year)
Prints "valid" and the claims (exit 0), or "invalid: <why>" (exit 1).`,
  compare: `Usage: nestjs-dapr-auth compare [accepted] [token]

Compares a token with the accepted one, as the guard does (constant time, the same format
rules), and prints only "match" (exit 0), "no match" (exit 1) or "refused" (exit 3): never
either token. The accepted token is read as DaprAuthModule reads it at start-up (the variable
as is, a file trimmed), with the default maxTokenLength; "refused" means the module would not
start with it, and stderr says why, in the module's words.
Accepted (one; default --accepted-env APP_API_TOKEN):
  --accepted-env <name>       an environment variable (tokenEnvVar)
  --accepted-file <path>      a file (tokenFile), e.g. a key of a mounted Secret
  --secret-volume <dir>       a Kubernetes Secret mounted as a volume: its key \`token\` (--key <key>)
Token (never on the command line): --token-file <path>, --token-env <name>, or standard input
  (read for at most --stdin-timeout <seconds>, default 10).
Example: does the Secret hold the token this pod's app reads?
  kubectl get secret app-api-token -o jsonpath='{.data.token}' | base64 -d \\
    | kubectl exec -i <pod> -c app -- npx nestjs-dapr-auth compare --secret-volume /var/run/secrets/dapr-app-token`,
};

function options(args: string[], spec: ParseArgsConfig['options']) {
  const allOptions = { ...spec, help: { type: 'boolean' as const } };
  try {
    return parseArgs({ args, options: allOptions, allowPositionals: false, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    // Node's message quotes the argument, which may be a token typed on the command line.
    throw new UsageError(describeArgumentError(error, Object.keys(allOptions)));
  }
}

/**
 * A presented token as the guard would see it in a header: only the spaces, tabs and line ends
 * HTTP strips around a value, and the newline `echo` adds. Not String.trim, which also removes a
 * BOM, a no-break space or U+2028, which the guard refuses.
 */
function trimAsHttp(value: string): string {
  return value.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

/** `--clock-tolerance` / `--max-age`: a number of seconds, or a time span for the module's options to check. */
function span(value: unknown): number | string | undefined {
  if (typeof value !== 'string') return undefined;
  return /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
}

/** The content of a file (at most `maxBytes`) or an environment variable named by `--x-file` / `--x-env`. */
function fromFileOrEnv(
  values: Record<string, unknown>,
  name: string,
  required: boolean,
  maxBytes = KEY_INPUT_LIMIT,
  trim: (value: string) => string = (value) => value.trim(),
): string | undefined {
  const file = values[`${name}-file`] as string | undefined;
  const env = values[`${name}-env`] as string | undefined;
  if (file && env) throw new UsageError(`give --${name}-file or --${name}-env, not both.`);
  if (file) return trim(readFileOption(`${name}-file`, file, maxBytes));
  if (env) {
    const value = process.env[env];
    if (!value) throw new UsageError(`environment variable ${shownEnvName(env)} (--${name}-env) is not set.`);
    return trim(value);
  }
  if (required) throw new UsageError(`--${name}-file or --${name}-env is required.`);
  return undefined;
}

function generate(args: string[]): number {
  const values = options(args, { bytes: { type: 'string' } });
  if (values.help) return print(HELP.generate);
  const bytes = Number(values.bytes ?? 32);
  if (!Number.isInteger(bytes) || bytes < 16 || bytes > 1024) throw new UsageError('--bytes must be a whole number from 16 to 1024.');
  return print(randomBytes(bytes).toString('base64url'));
}

async function sign(args: string[]): Promise<number> {
  const values = options(args, {
    alg: { type: 'string' },
    'secret-file': { type: 'string' },
    'secret-env': { type: 'string' },
    'key-file': { type: 'string' },
    'key-env': { type: 'string' },
    iss: { type: 'string' },
    aud: { type: 'string' },
    sub: { type: 'string' },
    kid: { type: 'string' },
    exp: { type: 'string' },
  });
  if (values.help) return print(HELP.sign);
  const alg = values.alg as string | undefined;
  if (!alg) throw new UsageError('--alg is required (e.g. HS256, RS256, ES256, EdDSA).');
  // Checked here so that the module's message, which names the algorithm, never sees a token typed there.
  if (!ALGORITHM_SHAPE.test(alg)) throw new UsageError('--alg is not an algorithm name (not shown), e.g. HS256, RS256, ES256, EdDSA.');
  const secret = fromFileOrEnv(values, 'secret', false);
  const privatePem = fromFileOrEnv(values, 'key', false);
  if ((secret === undefined) === (privatePem === undefined)) throw new UsageError('give one key: --secret-file / --secret-env, or --key-file / --key-env.');
  let key;
  if (secret !== undefined) {
    resolveJwtOptions({ secret, algorithms: [alg] }); // the module's own checks: HS*, and long enough
    key = new TextEncoder().encode(secret);
  } else {
    try {
      key = createPrivateKey(privatePem!);
    } catch {
      throw new UsageError('the key is not a PEM private key (-----BEGIN PRIVATE KEY-----).');
    }
  }
  const { SignJWT } = await import('jose');
  const jwt = new SignJWT({}).setProtectedHeader({ alg, typ: 'JWT', ...(values.kid ? { kid: values.kid as string } : {}) }).setIssuedAt();
  if (values.iss) jwt.setIssuer(values.iss as string);
  if (values.aud) jwt.setAudience(values.aud as string);
  if (values.sub) jwt.setSubject(values.sub as string);
  try {
    jwt.setExpirationTime((values.exp as string | undefined) ?? '1h');
    return print(await jwt.sign(key));
  } catch (error) {
    throw new UsageError(`cannot sign: ${(error as Error).message}`);
  }
}

async function verify(args: string[]): Promise<number> {
  const values = options(args, {
    alg: { type: 'string' },
    'secret-file': { type: 'string' },
    'secret-env': { type: 'string' },
    'public-key-file': { type: 'string' },
    'public-key-env': { type: 'string' },
    'jwks-file': { type: 'string' },
    'jwks-uri': { type: 'string' },
    'token-file': { type: 'string' },
    'token-env': { type: 'string' },
    iss: { type: 'string' },
    aud: { type: 'string' },
    'clock-tolerance': { type: 'string' },
    'max-age': { type: 'string' },
    require: { type: 'string' },
    'stdin-timeout': { type: 'string' },
  });
  if (values.help) return print(HELP.verify);
  if (!values.alg) throw new UsageError('--alg is required: the algorithms to accept, comma-separated.');
  const jwt: DaprJwtOptions = { algorithms: (values.alg as string).split(',').map((alg) => alg.trim()) };
  // The module's message quotes an unknown algorithm: only one written as an algorithm name reaches it.
  if (!jwt.algorithms.every((alg) => ALGORITHM_SHAPE.test(alg)))
    throw new UsageError('--alg has a value that is not an algorithm name (not shown), e.g. HS256, RS256, ES256, EdDSA.');
  const stdinTimeout = stdinTimeoutSeconds(values['stdin-timeout']);
  jwt.secret = fromFileOrEnv(values, 'secret', false);
  jwt.publicKey = fromFileOrEnv(values, 'public-key', false);
  if (values['jwks-file']) {
    const text = readFileOption('jwks-file', values['jwks-file'] as string, KEY_INPUT_LIMIT);
    try {
      // Its shape is checked by resolveJwtOptions, as the module's `jwks` option is.
      jwt.jwks = JSON.parse(text) as DaprJwtOptions['jwks'];
    } catch {
      // JSON.parse's message quotes the content: never print it.
      throw new UsageError(`--jwks-file ${shownPath(values['jwks-file'])} is not JSON: it must hold a JWKS, { "keys": [ ... ] }.`);
    }
  }
  if (values['jwks-uri']) jwt.jwksUri = values['jwks-uri'] as string;
  if (values.iss) jwt.issuer = values.iss as string;
  if (values.aud) jwt.audience = values.aud as string;
  jwt.clockTolerance = span(values['clock-tolerance']);
  jwt.maxTokenAge = span(values['max-age']);
  if (values.require) jwt.requiredClaims = (values.require as string).split(',').map((claim) => claim.trim());
  for (const key of Object.keys(jwt) as Array<keyof DaprJwtOptions>) if (jwt[key] === undefined) delete jwt[key];
  const verifier = await JwtVerifier.create(resolveJwtOptions(jwt), { warn: (line) => process.stderr.write(`${line}\n`), log: () => undefined });

  const fromFlags = fromFileOrEnv(values, 'token', false, TOKEN_INPUT_LIMIT, trimAsHttp);
  // Reading a terminal would wait for typing that nobody knows is expected: say what to give instead.
  if (fromFlags === undefined && process.stdin.isTTY)
    throw new UsageError('give the token with --token-file, --token-env, or on standard input (e.g. echo "$TOKEN" | nestjs-dapr-auth verify …).');
  const token = trimAsHttp(fromFlags ?? (await readStandardInput(TOKEN_INPUT_LIMIT, stdinTimeout)));
  if (!isWellFormedToken(token, DEFAULT_MAX_TOKEN_LENGTH)) return fail('not a well-formed token (visible ASCII, 1 to 4096 characters, one value)');
  const outcome = await verifier.verify(token);
  if (!outcome.ok) return fail(JWT_FAILURE_TEXT[outcome.failure]);
  return print(`valid\n${JSON.stringify(outcome.verified.claims, null, 2)}`);
}

/**
 * `compare`: a presented opaque token against the accepted one, in constant time; prints neither.
 * The accepted token is read and checked by the module's own start-up code (configured-token.ts),
 * so a token the module would refuse is reported as such ("refused", exit 3), never compared.
 */
async function compare(args: string[]): Promise<number> {
  const values = options(args, {
    'accepted-env': { type: 'string' },
    'accepted-file': { type: 'string' },
    'secret-volume': { type: 'string' },
    key: { type: 'string' },
    'token-file': { type: 'string' },
    'token-env': { type: 'string' },
    'stdin-timeout': { type: 'string' },
  });
  if (values.help) return print(HELP.compare);
  const sources = (['accepted-env', 'accepted-file', 'secret-volume'] as const).filter((name) => values[name] !== undefined);
  if (sources.length > 1)
    throw new UsageError(`give one of --accepted-env, --accepted-file, --secret-volume, not ${sources.map((name) => `--${name}`).join(' and ')}.`);
  if (values.key !== undefined && values['secret-volume'] === undefined) throw new UsageError('--key only applies with --secret-volume.');
  const stdinTimeout = stdinTimeoutSeconds(values['stdin-timeout']);
  let origin: ConfiguredTokenOrigin;
  if (values['secret-volume'] !== undefined) {
    const key = (values.key as string | undefined) ?? 'token';
    if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new UsageError('--key must be a Secret key (letters, digits, -, _, .).');
    origin = { tokenFile: join(values['secret-volume'] as string, key) };
  } else if (values['accepted-file'] !== undefined) {
    origin = { tokenFile: values['accepted-file'] as string };
  } else {
    origin = { tokenEnvVar: (values['accepted-env'] as string | undefined) ?? 'APP_API_TOKEN' };
  }
  // Loaded here: the module's option code brings in @nestjs/common, which the other commands do without.
  const { readConfiguredToken } = await import('./configured-token.js');
  const configured = readConfiguredToken(origin);
  if ('refusal' in configured) {
    process.stderr.write(`nestjs-dapr-auth compare: refused: DaprAuthModule would not start with this accepted token: ${configured.refusal}\n`);
    process.stdout.write('refused\n');
    return EXIT_REFUSED_BY_MODULE;
  }
  for (const warning of configured.warnings) process.stderr.write(`nestjs-dapr-auth compare: DaprAuthModule would warn: ${warning}\n`);

  const fromFlags = fromFileOrEnv(values, 'token', false, TOKEN_INPUT_LIMIT, trimAsHttp);
  if (fromFlags === undefined && process.stdin.isTTY) {
    throw new UsageError('give the token to check with --token-file, --token-env, or on standard input (e.g. ... | nestjs-dapr-auth compare).');
  }
  const presented = trimAsHttp(fromFlags ?? (await readStandardInput(TOKEN_INPUT_LIMIT, stdinTimeout)));
  const match =
    isWellFormedToken(presented, DEFAULT_MAX_TOKEN_LENGTH) && new TokenSet([configured.token], DEFAULT_MAX_TOKEN_LENGTH).matchIndex(presented) === 0;
  process.stdout.write(match ? 'match\n' : 'no match\n');
  return match ? 0 : 1;
}

function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

function fail(why: string): number {
  process.stdout.write(`invalid: ${why}\n`);
  return 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'generate':
        return generate(args);
      case 'sign':
        return await sign(args);
      case 'verify':
        return await verify(args);
      case 'compare':
        return await compare(args);
      case undefined:
        process.stderr.write('nestjs-dapr-auth: give a command: generate, sign, verify or compare (nestjs-dapr-auth --help).\n');
        return 2;
      case '--help':
      case '-h':
      case 'help':
        return print(HELP.main);
      default:
        throw new UsageError('unknown command (not shown): use generate, sign, verify or compare (nestjs-dapr-auth --help).');
    }
  } catch (error) {
    // The command is echoed only when it is one: an unknown one may be a token pasted in its place.
    const prefix = COMMANDS.includes(command) ? `nestjs-dapr-auth ${command}` : 'nestjs-dapr-auth';
    if (error instanceof UsageError || error instanceof DaprAuthConfigError) {
      process.stderr.write(`${prefix}: ${error.message}\n`);
      return 2;
    }
    // Anything else: one line, the error's class only (its message could quote a file or a key).
    process.stderr.write(`${prefix}: failed (${(error as Error)?.name ?? 'error'}).\n`);
    return 2;
  }
}

void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
