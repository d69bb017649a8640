import type { KeyObject } from 'node:crypto';

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
  /**
   * Clock skew allowed for `exp`, `nbf` and `iat`: seconds (0 or more), or one of jose's time spans
   * (`'30s'`, `'5 minutes'`, `'1h'`, `'2 days'`, `'1w'`, `'1 year'`). Default 0.
   */
  clockTolerance?: number | string;
  /** Refuse tokens issued longer ago than this (`iat` required): seconds, or a time span like `'1d'` (as `clockTolerance`). */
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
  /**
   * With `jwksUri`: allow a plain `http:` URL to a host that is not loopback. Anyone on the network
   * path could then swap the keys and mint accepted tokens: only behind a TLS-terminating sidecar
   * or mesh you trust. Default `false` (`http:` is accepted for `localhost`, 127.0.0.0/8 and `[::1]`).
   */
  jwksAllowHttp?: boolean;
  /** Size of the cache of verified tokens (keyed by a hash of the token, never kept past `exp`). Default 1000; 0 turns it off. */
  verifiedCacheSize?: number;
}

/** Where the keys come from, after validation. */
export type ResolvedKeySource =
  | { kind: 'key'; key: KeyObject }
  | { kind: 'jwks'; keys: DaprJwk[] }
  | { kind: 'jwksUri'; url: URL; allowHttp: boolean; cacheMaxAge: number; staleTolerance: number; cooldown: number; timeout: number };

/** {@link DaprJwtOptions} after validation. */
export interface ResolvedJwtOptions {
  readonly keySource: ResolvedKeySource;
  readonly algorithms: readonly string[];
  readonly issuer?: string | string[];
  readonly audience?: string | string[];
  /** Seconds (see {@link timeSpanSeconds}). */
  readonly clockTolerance: number;
  /** Seconds, if set (see {@link timeSpanSeconds}). */
  readonly maxTokenAge?: number;
  readonly requiredClaims: readonly string[];
  readonly verifiedCacheSize: number;
}
