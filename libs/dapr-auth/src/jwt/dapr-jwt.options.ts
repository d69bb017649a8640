import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';

/** A JSON Web Key, as in a JWKS (`{ kty, kid, alg, n, e, x, y, crv, … }`). */
export interface DaprJwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  [parameter: string]: unknown;
}

/**
 * Option `jwt` of DaprAuthModule: the token daprd sends is a JWT, and the guard verifies its
 * signature and claims with `jose`. Give exactly one key source: `secret`, `publicKey`, `jwks` or
 * `jwksUri`.
 */
export interface DaprJwtOptions {
  /** HMAC secret for HS256 / HS384 / HS512: at least as long as the hash (32, 48, 64 bytes; RFC 7518 §3.2). */
  secret?: string | Uint8Array;
  /** A public key: PEM (SPKI, `-----BEGIN PUBLIC KEY-----`) or a JWK. Not a secret. */
  publicKey?: string | DaprJwk;
  /** A local JWKS (`{ keys: [...] }`): the token's `kid` picks the key. */
  jwks?: { keys: DaprJwk[] };
  /** A remote JWKS (`https://issuer/.well-known/jwks.json`), cached and refetched (see the `jwks*` options). */
  jwksUri?: string;
  /** The algorithms accepted (required): checked against the key type at start-up. `none` never is. */
  algorithms: string[];
  /** Accepted `iss` value(s). */
  issuer?: string | string[];
  /** Accepted `aud` value(s). */
  audience?: string | string[];
  /** Clock skew allowed for `exp`, `nbf` and `iat`: seconds, or a span like `'30s'`. Default 0. */
  clockTolerance?: number | string;
  /** Refuse tokens issued longer ago than this (`iat` required): seconds, or a span like `'1d'`. */
  maxTokenAge?: number | string;
  /** Claims that must be present. Default `['exp']`: jose alone accepts a token that never expires. */
  requiredClaims?: string[];
  /** With `jwksUri`: how long fetched keys are used before they are refetched, in ms. Default 10 minutes. */
  jwksCacheMaxAge?: number;
  /** With `jwksUri`: how long fetched keys stay usable when the endpoint is down, past `jwksCacheMaxAge`, in ms. Default 1 hour. */
  jwksStaleTolerance?: number;
  /** With `jwksUri`: minimum time between two fetches triggered by an unknown `kid`, in ms. Default 30 s. */
  jwksCooldown?: number;
  /** With `jwksUri`: time limit of one fetch, in ms. Default 5 s. */
  jwksTimeout?: number;
  /** Size of the cache of verified tokens (keyed by a hash of the token, never kept past `exp`). Default 1000; 0 turns it off. */
  verifiedCacheSize?: number;
}

/** Where the keys come from, after validation. */
export type ResolvedKeySource =
  | { kind: 'key'; key: KeyObject }
  | { kind: 'jwks'; keys: DaprJwk[] }
  | { kind: 'jwksUri'; url: URL; cacheMaxAge: number; staleTolerance: number; cooldown: number; timeout: number };

/** {@link DaprJwtOptions} after validation. */
export interface ResolvedJwtOptions {
  readonly keySource: ResolvedKeySource;
  readonly algorithms: readonly string[];
  readonly issuer?: string | string[];
  readonly audience?: string | string[];
  readonly clockTolerance?: number | string;
  readonly maxTokenAge?: number | string;
  readonly requiredClaims: readonly string[];
  readonly verifiedCacheSize: number;
}

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
  'secret', 'publicKey', 'jwks', 'jwksUri', 'algorithms', 'issuer', 'audience', 'clockTolerance', 'maxTokenAge',
  'requiredClaims', 'jwksCacheMaxAge', 'jwksStaleTolerance', 'jwksCooldown', 'jwksTimeout', 'verifiedCacheSize',
]);

const fail = (problem: string): never => {
  throw new DaprAuthConfigError(`option \`jwt\`: ${problem}`);
};

function milliseconds(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(`\`${name}\` must be a number of milliseconds, 0 or more.`);
  return value as number;
}

function checkAlgorithms(algorithms: unknown): string[] {
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    fail('`algorithms` is required: list the algorithms your tokens are signed with, e.g. [\'RS256\'] (an allow-list: jose would otherwise accept any the key fits).');
  }
  for (const alg of algorithms as unknown[]) {
    if (alg === 'none' || typeof alg !== 'string' || !(alg in HMAC || alg in ASYMMETRIC)) {
      fail(`\`algorithms\` has ${JSON.stringify(alg)}, which is not one of ${[...Object.keys(HMAC), ...Object.keys(ASYMMETRIC)].join(', ')}.`);
    }
  }
  return algorithms as string[];
}

function checkAsymmetric(key: KeyObject, algorithms: string[], origin: string): void {
  for (const alg of algorithms) {
    const need = ASYMMETRIC[alg];
    if (!need) fail(`${alg} is an HMAC algorithm, but ${origin} is a public key: an HS token checked against a public key is the algorithm-confusion attack. Use \`secret\` for HS*.`);
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (!need.type.includes(key.asymmetricKeyType ?? '') || (need.curve && curve !== need.curve)) {
      fail(`${alg} needs a ${need.type.join(' or ')}${need.curve ? ` ${need.curve}` : ''} key, but ${origin} is ${key.asymmetricKeyType}${curve ? ` ${curve}` : ''}.`);
    }
  }
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
  if (unknown.length) fail(`unknown option(s) ${unknown.map((key) => `\`${key}\``).join(', ')}. Known: ${[...KNOWN].join(', ')}.`);
  const sources = (['secret', 'publicKey', 'jwks', 'jwksUri'] as const).filter((key) => jwt[key] !== undefined);
  if (sources.length !== 1) {
    fail(sources.length === 0 ? 'give one key source: `secret`, `publicKey`, `jwks` or `jwksUri`.' : `${sources.map((k) => `\`${k}\``).join(' and ')} each give the keys; keep one.`);
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
        fail(`\`secret\` is ${bytes.length} bytes, shorter than the ${minimum} bytes ${alg} needs (RFC 7518 §3.2). Generate one with: node -e "console.log(require('crypto').randomBytes(${minimum}).toString('base64url'))"`);
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
      checkAsymmetric(publicKeyFrom(jwk), algorithms.filter((alg) => !jwk.alg || jwk.alg === alg), `the JWK ${jwk.kid ? `"${jwk.kid}"` : 'without kid'}`);
    }
    keySource = { kind: 'jwks', keys: keys.map((jwk) => ({ ...jwk })) };
  } else {
    let url: URL;
    try {
      url = new URL(jwt.jwksUri!);
    } catch {
      return fail('`jwksUri` is not a URL.');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('`jwksUri` must be an http(s) URL.');
    for (const alg of algorithms) if (alg in HMAC) fail(`${alg} is an HMAC algorithm; a JWKS holds public keys. List only asymmetric algorithms with \`jwksUri\`.`);
    keySource = {
      kind: 'jwksUri',
      url,
      cacheMaxAge: milliseconds(jwt.jwksCacheMaxAge, 'jwksCacheMaxAge', 10 * 60_000),
      staleTolerance: milliseconds(jwt.jwksStaleTolerance, 'jwksStaleTolerance', 60 * 60_000),
      cooldown: milliseconds(jwt.jwksCooldown, 'jwksCooldown', 30_000),
      timeout: milliseconds(jwt.jwksTimeout, 'jwksTimeout', 5_000),
    };
  }

  const requiredClaims = jwt.requiredClaims ?? ['exp'];
  if (!Array.isArray(requiredClaims) || requiredClaims.some((claim) => typeof claim !== 'string')) fail('`requiredClaims` must be a list of claim names.');
  if (jwt.maxTokenAge !== undefined && !requiredClaims.includes('iat')) requiredClaims.push('iat');
  const verifiedCacheSize = jwt.verifiedCacheSize ?? 1000;
  if (!Number.isInteger(verifiedCacheSize) || verifiedCacheSize < 0) fail('`verifiedCacheSize` must be a whole number, 0 or more.');
  return Object.freeze({
    keySource,
    algorithms: Object.freeze([...algorithms]),
    issuer: jwt.issuer,
    audience: jwt.audience,
    clockTolerance: jwt.clockTolerance,
    maxTokenAge: jwt.maxTokenAge,
    requiredClaims: Object.freeze([...requiredClaims]),
    verifiedCacheSize,
  });
}
