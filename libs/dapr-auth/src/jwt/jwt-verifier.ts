import type { JWTPayload, JWTVerifyOptions } from 'jose';
import type { ResolvedJwtOptions } from './dapr-jwt.options.js';
import { type JwtFailure, JwtRejection } from './jwt-rejection.js';
import { type JwksStatus, RemoteJwks } from './remote-jwks.js';
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
  /** With a remote JWKS: refetch stale keys in the background (see RemoteJwks.keepFresh). */
  private keepKeysFresh: (now: number) => void = () => undefined;
  /** Whether keys are usable now (a remote JWKS past its stale tolerance is not); always with local keys. */
  private keysUsable: (now: number) => boolean = () => true;
  /** With a remote JWKS: its state, for metrics and health checks; `undefined` for local keys. */
  jwksStatus: () => JwksStatus | undefined = () => undefined;
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
    // jose is an ES module only: import(), not require (which Node 20 would do with a warning).
    const jose: Jose = await import('jose');
    const source = options.keySource;
    if (source.kind === 'key') return new JwtVerifier(jose, options, source.key);
    if (source.kind === 'jwks') return new JwtVerifier(jose, options, jose.createLocalJWKSet({ keys: source.keys }));
    const remote = new RemoteJwks(jose, source, log);
    const verifier = new JwtVerifier(jose, options, remote.getKey);
    // A key removed from the JWKS must stop its tokens at once, cached or not.
    remote.onKeysReplaced = () => verifier.cache.clear();
    verifier.keepKeysFresh = (now) => remote.keepFresh(now);
    verifier.keysUsable = (now) => remote.usable(now);
    verifier.jwksStatus = () => remote.status();
    remote.prefetch();
    return verifier;
  }

  /**
   * A still-valid earlier verification of this token, if any: the synchronous fast path. Valid
   * means what a fresh verification at `now` would say about the time claims (see
   * {@link JwtVerifier.timeClaimsHold}); the other checks do not depend on the time.
   */
  cached(token: string, now = Date.now()): VerifiedToken | undefined {
    this.keepKeysFresh(now);
    // A cached acceptance is never kinder than a fresh verification: without usable keys that refuses.
    if (!this.keysUsable(now)) return undefined;
    const hit = this.cache.get(VerifiedTokenCache.keyOf(token), now);
    return hit !== undefined && this.timeClaimsHold(hit.claims, now) ? hit : undefined;
  }

  /** Verifies with jose; `now` (ms) is the verification time, for tests. */
  async verify(token: string, now = Date.now()): Promise<JwtOutcome> {
    try {
      const { payload, protectedHeader } = await this.jose.jwtVerify(token, this.key as never, { ...this.verifyOptions, currentDate: new Date(now) });
      const verified: VerifiedToken = { claims: Object.freeze({ ...payload }), expiresAt: this.cacheLimitOf(payload, now), kid: protectedHeader.kid };
      this.cache.set(VerifiedTokenCache.keyOf(token), verified);
      return { ok: true, verified };
    } catch (error) {
      return { ok: false, failure: failureOf(error) };
    }
  }

  /**
   * jose's time checks (lib/jwt_claims_set.js), the same expressions on the same numbers: `now`
   * in whole seconds, `clockTolerance` and `maxTokenAge` as resolved (seconds). So a cached answer
   * is never kinder than a fresh one, e.g. a token past `iat + maxTokenAge` is refused even though
   * its `exp` is far away.
   */
  private timeClaimsHold(claims: JWTPayload, nowMs: number): boolean {
    const now = Math.floor(nowMs / 1000);
    const tolerance = this.options.clockTolerance;
    const { nbf, exp, iat } = claims;
    if (nbf !== undefined && nbf > now + tolerance) return false;
    if (exp !== undefined && exp <= now - tolerance) return false;
    const maxAge = this.options.maxTokenAge;
    if (maxAge !== undefined) {
      const age = now - (iat as number);
      if (age - tolerance > maxAge || age < -tolerance) return false;
    }
    return true;
  }

  /** When the cache may drop the entry: past `exp` (with the tolerance) nothing can accept it; without `exp`, a minute. */
  private cacheLimitOf(payload: JWTPayload, nowMs: number): number {
    if (typeof payload.exp !== 'number') return nowMs + MAX_CACHE_WITHOUT_EXP;
    return (payload.exp + this.options.clockTolerance + 1) * 1000;
  }
}

/** Maps what jose threw to a reason, by what happened (jose throws plain TypeErrors for some). */
export function failureOf(error: unknown): JwtFailure {
  if (error instanceof JwtRejection) return error.failure;
  const { code, claim, reason } = error as { code?: string; claim?: string; reason?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      // jose reports "older than maxTokenAge" as expired too, on claim iat.
      return claim === 'iat' ? 'too-old' : 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (reason === 'missing') return 'missing-claim';
      if (claim === 'nbf') return 'not-yet-valid';
      if (claim === 'iat' && reason === 'check_failed') return 'issued-in-future';
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
  'issued-in-future': 'issued in the future (iat)',
  'wrong-issuer': 'wrong issuer (iss)',
  'wrong-audience': 'wrong audience (aud)',
  'missing-claim': 'a required claim is missing',
  'invalid-claim': 'a claim is invalid',
  'unknown-key': 'no configured key matches it (kid)',
  'key-mismatch': 'the key does not fit its algorithm',
  'jwks-unavailable': 'the JWKS endpoint is unavailable and no usable key is known',
  error: 'verification failed',
};
