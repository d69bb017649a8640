import type { JWTPayload, JWTVerifyOptions } from 'jose';
import type { ResolvedJwtOptions } from './dapr-jwt.options.js';
import { type JwtFailure, JwtRejection } from './jwt-rejection.js';
import { RemoteJwks } from './remote-jwks.js';
import { type VerifiedToken, VerifiedTokenCache } from './verified-token-cache.js';

type Jose = typeof import('jose');

/** The outcome of verifying one JWT. */
export type JwtOutcome = { ok: true; verified: VerifiedToken } | { ok: false; failure: JwtFailure };

/** Tokens without `exp` (when `requiredClaims` allows it) are cached for at most this long. */
const MAX_CACHE_WITHOUT_EXP = 60_000;

/**
 * Verifies a JWT with jose (signature, algorithm allow-list, exp/nbf/iat, iss, aud, required
 * claims) and remembers successful verifications in a {@link VerifiedTokenCache}. jose is loaded
 * with a dynamic import only when the `jwt` option is used, so ES module and CommonJS apps load it
 * the same way and apps without JWTs never load it.
 */
export class JwtVerifier {
  private readonly cache: VerifiedTokenCache;
  private readonly verifyOptions: JWTVerifyOptions;

  private constructor(
    private readonly jose: Jose,
    private readonly options: ResolvedJwtOptions,
    private readonly key: Parameters<Jose['jwtVerify']>[1],
  ) {
    this.cache = new VerifiedTokenCache(options.verifiedCacheSize);
    this.verifyOptions = {
      algorithms: [...options.algorithms],
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockTolerance,
      maxTokenAge: options.maxTokenAge,
      requiredClaims: [...options.requiredClaims],
    };
  }

  static async create(options: ResolvedJwtOptions, log: { warn(message: string): void; log(message: string): void }): Promise<JwtVerifier> {
    const jose: Jose = await import('jose');
    const source = options.keySource;
    if (source.kind === 'key') return new JwtVerifier(jose, options, source.key as never);
    if (source.kind === 'jwks') return new JwtVerifier(jose, options, jose.createLocalJWKSet({ keys: source.keys } as never));
    const remote = new RemoteJwks(jose, source, log);
    remote.prefetch();
    return new JwtVerifier(jose, options, remote.getKey);
  }

  /** A still-valid earlier verification of this token, if any: the synchronous fast path. */
  cached(token: string): VerifiedToken | undefined {
    return this.cache.get(VerifiedTokenCache.keyOf(token));
  }

  async verify(token: string): Promise<JwtOutcome> {
    try {
      const { payload } = await this.jose.jwtVerify(token, this.key as never, this.verifyOptions);
      const verified: VerifiedToken = { claims: Object.freeze({ ...payload }), expiresAt: this.expiryOf(payload) };
      this.cache.set(VerifiedTokenCache.keyOf(token), verified);
      return { ok: true, verified };
    } catch (error) {
      return { ok: false, failure: failureOf(error) };
    }
  }

  /** The cached result's end: `exp`, or `iat + maxTokenAge` if earlier, never longer than a minute without `exp`. */
  private expiryOf(payload: JWTPayload): number {
    const now = Date.now();
    let expiresAt = typeof payload.exp === 'number' ? payload.exp * 1000 : now + MAX_CACHE_WITHOUT_EXP;
    const maxAge = this.options.maxTokenAge;
    if (maxAge !== undefined && typeof payload.iat === 'number') {
      const seconds = typeof maxAge === 'number' ? maxAge : secondsOf(maxAge);
      if (seconds !== undefined) expiresAt = Math.min(expiresAt, (payload.iat + seconds) * 1000);
    }
    return expiresAt;
  }
}

/** '30s', '5m', '2h', '1d', '1w' -> seconds (the forms jose accepts for maxTokenAge). */
function secondsOf(span: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks)$/i.exec(span.trim());
  if (!match) return undefined;
  const unit = match[2].toLowerCase()[0];
  return Number(match[1]) * ({ s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as Record<string, number>)[unit];
}

/** Maps what jose threw to a reason, by what happened (jose throws plain TypeErrors for some). */
export function failureOf(error: unknown): JwtFailure {
  if (error instanceof JwtRejection) return error.failure;
  const { code, claim, reason } = error as { code?: string; claim?: string; reason?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (reason === 'missing') return 'missing-claim';
      if (claim === 'nbf') return 'not-yet-valid';
      if (claim === 'iat') return 'too-old';
      if (claim === 'iss') return 'wrong-issuer';
      if (claim === 'aud') return 'wrong-audience';
      return 'invalid-claim';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad-signature';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'algorithm-not-allowed';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'malformed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'unknown-key';
    case 'ERR_JWKS_TIMEOUT':
      return 'jwks-unavailable';
  }
  // jose throws TypeError for a key that does not fit the token's algorithm, and fetch a bare
  // TypeError('fetch failed'); neither must become a 500.
  if (error instanceof TypeError) return 'key-mismatch';
  return 'error';
}

/** How a failure reads in the rejection log. */
export const JWT_FAILURE_TEXT: Record<JwtFailure, string> = {
  malformed: 'not a well-formed JWT',
  'algorithm-not-allowed': "its algorithm is not in `jwt.algorithms` (or is 'none')",
  'bad-signature': 'bad signature',
  expired: 'expired',
  'not-yet-valid': 'not valid yet (nbf)',
  'too-old': 'issued too long ago (maxTokenAge)',
  'wrong-issuer': 'wrong issuer (iss)',
  'wrong-audience': 'wrong audience (aud)',
  'missing-claim': 'a required claim is missing',
  'invalid-claim': 'a claim is invalid',
  'unknown-key': 'no configured key matches it (kid)',
  'key-mismatch': 'the key does not fit its algorithm',
  'jwks-unavailable': 'the JWKS endpoint is unavailable and no usable key is known',
  error: 'verification failed',
};
