import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import { OptionChecks, shownOptionName } from '../option-checks.js';
import type { DaprJwk, DaprJwtOptions, ResolvedJwtOptions, ResolvedKeySource } from './dapr-jwt.options.js';
import { timeSpanSeconds } from './time-span.js';

const HMAC = { HS256: 32, HS384: 48, HS512: 64 } as const;
/** The key types each asymmetric algorithm needs (Node's `asymmetricKeyType`, and the curve for EC). */
const ASYMMETRIC: Record<string, { type: string[]; curve?: string }> = {
  RS256: { type: ['rsa'] },
  RS384: { type: ['rsa'] },
  RS512: { type: ['rsa'] },
  PS256: { type: ['rsa', 'rsa-pss'] },
  PS384: { type: ['rsa', 'rsa-pss'] },
  PS512: { type: ['rsa', 'rsa-pss'] },
  ES256: { type: ['ec'], curve: 'prime256v1' },
  ES384: { type: ['ec'], curve: 'secp384r1' },
  ES512: { type: ['ec'], curve: 'secp521r1' },
  EdDSA: { type: ['ed25519', 'ed448'] },
  Ed25519: { type: ['ed25519'] },
};
const KNOWN = new Set<string>([
  'secret',
  'publicKey',
  'jwks',
  'jwksUri',
  'algorithms',
  'issuer',
  'audience',
  'clockTolerance',
  'maxTokenAge',
  'requiredClaims',
  'jwksCacheMaxAge',
  'jwksStaleTolerance',
  'jwksCooldown',
  'jwksTimeout',
  'jwksAllowHttp',
  'verifiedCacheSize',
]);

const fail = (problem: string): never => {
  throw new DaprAuthConfigError(`option \`jwt\`: ${problem}`);
};

const check = new OptionChecks('jwt.');

/** `clockTolerance` / `maxTokenAge`: exactly what jose accepts, as seconds. */
function seconds(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const result = timeSpanSeconds(value);
  if (result === undefined) {
    check.fail(name, value, "0 or more seconds, or a time span such as '30s', '5 minutes', '1h', '2 days', '1w', '1 year'");
  }
  return result;
}

const isLoopbackHost = (hostname: string) => hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);

/**
 * The `jwksUri` rule, for the configured URL and for every redirect a fetch meets: https, or plain
 * http to a loopback host (or anywhere with `jwksAllowHttp`).
 */
export function isAllowedJwksUrl(url: URL, allowHttp: boolean): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && (allowHttp || isLoopbackHost(url.hostname)));
}

function checkAlgorithms(algorithms: unknown): string[] {
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    fail(
      "`algorithms` is required: list the algorithms your tokens are signed with, e.g. ['RS256'] (an allow-list: jose would otherwise accept any the key fits).",
    );
  }
  for (const alg of algorithms as unknown[]) {
    if (alg === 'none' || typeof alg !== 'string' || !(alg in HMAC || alg in ASYMMETRIC)) {
      fail(
        `\`algorithms\` has ${alg === 'none' ? '"none" (unsigned tokens)' : 'a value (not shown: it could be a secret typed there)'}, which is not one of ${[...Object.keys(HMAC), ...Object.keys(ASYMMETRIC)].join(', ')}.`,
      );
    }
  }
  return algorithms as string[];
}

function checkAsymmetric(key: KeyObject, algorithms: string[], origin: string): void {
  for (const alg of algorithms) {
    const need = ASYMMETRIC[alg];
    if (!need)
      fail(
        `${alg} is an HMAC algorithm, but ${origin} is a public key: an HS token checked against a public key is the algorithm-confusion attack. Use \`secret\` for HS*.`,
      );
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (!need.type.includes(key.asymmetricKeyType ?? '') || (need.curve && curve !== need.curve)) {
      fail(
        `${alg} needs a ${need.type.join(' or ')}${need.curve ? ` ${need.curve}` : ''} key, but ${origin} is ${key.asymmetricKeyType}${curve ? ` ${curve}` : ''}.`,
      );
    }
  }
}

/**
 * A key of a local JWKS must fit at least one allowed algorithm (its own `alg`, if it names one):
 * a JWKS may mix key types, e.g. an EC and an RSA key with `['ES256', 'RS256']`. Which algorithm a
 * token may use with which key is then jose's check at verification (the `kid` picks the key, the
 * key type must fit the token's `alg`).
 */
function checkJwkFits(jwk: DaprJwk, algorithms: string[]): void {
  const origin = `the JWK ${jwk.kid ? `"${jwk.kid}"` : 'without kid'}`;
  const key = publicKeyFrom(jwk);
  if (jwk.alg !== undefined) {
    if (!algorithms.includes(jwk.alg)) fail(`${origin} is for ${JSON.stringify(jwk.alg)}, which is not in \`algorithms\` (${algorithms.join(', ')}).`);
    checkAsymmetric(key, [jwk.alg], origin);
    return;
  }
  const problems: string[] = [];
  for (const alg of algorithms) {
    try {
      checkAsymmetric(key, [alg], origin);
      return;
    } catch (error) {
      problems.push((error as Error).message.replace(/^DaprAuthModule: option `jwt`: /, ''));
    }
  }
  fail(`${origin} fits none of \`algorithms\` (${algorithms.join(', ')}): ${problems.join(' ')}`);
}

function publicKeyFrom(value: string | DaprJwk): KeyObject {
  // createPublicKey() would quietly derive the public half of a private key: refuse one outright.
  if ((typeof value === 'string' && value.includes('PRIVATE KEY')) || (typeof value === 'object' && value !== null && 'd' in value)) {
    fail('`publicKey` must be a PUBLIC key (PEM SPKI or a public JWK), never the private one: keep that with the token issuer.');
  }
  try {
    const key = typeof value === 'string' ? createPublicKey(value) : createPublicKey({ key: value as never, format: 'jwk' });
    return key;
  } catch (error) {
    if (error instanceof DaprAuthConfigError) throw error;
    // A private key given by mistake: createPublicKey derives the public half, so check the input too.
    return fail('`publicKey` is not a PEM public key (-----BEGIN PUBLIC KEY-----) or a public JWK.');
  }
}

/** Validates `jwt` at start-up. The messages never contain key material. */
export function resolveJwtOptions(jwt: DaprJwtOptions): ResolvedJwtOptions {
  if (jwt === null || typeof jwt !== 'object') fail('must be an object: { algorithms, and one of secret, publicKey, jwks, jwksUri }.');
  const unknown = Object.keys(jwt).filter((key) => !KNOWN.has(key));
  if (unknown.length) fail(`unknown option(s) ${unknown.slice(0, 10).map(shownOptionName).join(', ')}. Known: ${[...KNOWN].join(', ')}.`);
  const sources = (['secret', 'publicKey', 'jwks', 'jwksUri'] as const).filter((key) => jwt[key] !== undefined);
  if (sources.length !== 1) {
    fail(
      sources.length === 0
        ? 'give one key source: `secret`, `publicKey`, `jwks` or `jwksUri`.'
        : `${sources.map((k) => `\`${k}\``).join(' and ')} each give the keys; keep one.`,
    );
  }
  const algorithms = checkAlgorithms(jwt.algorithms);
  const jwksOnly = ['jwksCacheMaxAge', 'jwksStaleTolerance', 'jwksCooldown', 'jwksTimeout'] as const;
  if (jwt.jwksUri === undefined) for (const key of jwksOnly) if (jwt[key] !== undefined) fail(`\`${key}\` only applies with \`jwksUri\`.`);

  let keySource: ResolvedKeySource;
  if (jwt.secret !== undefined) {
    const bytes = typeof jwt.secret === 'string' ? Buffer.from(jwt.secret, 'utf8') : jwt.secret;
    if (!(bytes instanceof Uint8Array)) fail('`secret` must be a string or bytes.');
    for (const alg of algorithms) {
      const minimum = HMAC[alg as keyof typeof HMAC];
      if (minimum === undefined) fail(`${alg} is not an HMAC algorithm, but the key is a \`secret\`: list only HS256, HS384 or HS512.`);
      if (bytes.length < minimum) {
        fail(
          `\`secret\` is ${bytes.length} bytes, shorter than the ${minimum} bytes ${alg} needs (RFC 7518 §3.2). Generate one with: node -e "console.log(require('crypto').randomBytes(${minimum}).toString('base64url'))"`,
        );
      }
    }
    keySource = { kind: 'key', key: createSecretKey(bytes) };
  } else if (jwt.publicKey !== undefined) {
    const key = publicKeyFrom(jwt.publicKey);
    checkAsymmetric(key, algorithms, '`publicKey`');
    keySource = { kind: 'key', key };
  } else if (jwt.jwks !== undefined) {
    const keys = jwt.jwks?.keys;
    if (!Array.isArray(keys) || keys.length === 0) fail('`jwks` must be { keys: [ …at least one JWK… ] }.');
    for (const jwk of keys) {
      if (typeof jwk?.kty !== 'string' || jwk.kty === 'oct') fail('`jwks` may hold public keys only (no "oct" secret keys: use `secret` for HMAC).');
      if ('d' in jwk) fail('`jwks` holds a private key (it has "d"): publish and configure only the public keys.');
      checkJwkFits(jwk, algorithms);
    }
    keySource = { kind: 'jwks', keys: keys.map((jwk) => ({ ...jwk })) };
  } else {
    let url: URL;
    try {
      url = new URL(jwt.jwksUri!);
    } catch {
      return fail('`jwksUri` is not a URL.');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('`jwksUri` must be an https URL.');
    const allowHttp = check.boolean('jwksAllowHttp', jwt.jwksAllowHttp, false);
    if (url.protocol === 'http:' && !isAllowedJwksUrl(url, allowHttp)) {
      fail(
        '`jwksUri` is a plain http: URL: anyone on the network path could replace the keys and mint accepted tokens. Use https:, or set `jwksAllowHttp: true` if TLS is terminated by a proxy you trust (http: is accepted for loopback hosts).',
      );
    }
    for (const alg of algorithms)
      if (alg in HMAC) fail(`${alg} is an HMAC algorithm; a JWKS holds public keys. List only asymmetric algorithms with \`jwksUri\`.`);
    keySource = {
      kind: 'jwksUri',
      url,
      allowHttp,
      cacheMaxAge: check.milliseconds('jwksCacheMaxAge', jwt.jwksCacheMaxAge, 10 * 60_000, 0),
      staleTolerance: check.milliseconds('jwksStaleTolerance', jwt.jwksStaleTolerance, 60 * 60_000, 0),
      cooldown: check.milliseconds('jwksCooldown', jwt.jwksCooldown, 30_000, 0),
      timeout: check.milliseconds('jwksTimeout', jwt.jwksTimeout, 5_000, 1),
    };
  }

  const requiredClaims = [...(jwt.requiredClaims ?? ['exp'])];
  if (!Array.isArray(jwt.requiredClaims ?? []) || requiredClaims.some((claim) => typeof claim !== 'string'))
    check.fail('requiredClaims', jwt.requiredClaims, 'a list of claim names');
  const clockTolerance = seconds('clockTolerance', jwt.clockTolerance) ?? 0;
  const maxTokenAge = seconds('maxTokenAge', jwt.maxTokenAge);
  if (maxTokenAge !== undefined && !requiredClaims.includes('iat')) requiredClaims.push('iat');
  const issuer = check.strings('issuer', jwt.issuer, 'an issuer (string)');
  const audience = check.strings('audience', jwt.audience, 'an audience (string)');
  const verifiedCacheSize = check.integer('verifiedCacheSize', jwt.verifiedCacheSize, 1000, 0);
  return Object.freeze({
    keySource,
    algorithms: Object.freeze([...algorithms]),
    issuer: issuer && (typeof jwt.issuer === 'string' ? jwt.issuer : [...issuer]),
    audience: audience && (typeof jwt.audience === 'string' ? jwt.audience : [...audience]),
    clockTolerance,
    maxTokenAge,
    requiredClaims: Object.freeze([...requiredClaims]),
    verifiedCacheSize,
  });
}
