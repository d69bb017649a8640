import type { JWTVerifyGetKey } from 'jose';
import type { DaprJwk, ResolvedKeySource } from './dapr-jwt.options.js';
import { isAllowedJwksUrl } from './resolve-jwt-options.js';
import { JwtRejection } from './jwt-rejection.js';

type Jose = typeof import('jose');
type RemoteConfig = Extract<ResolvedKeySource, { kind: 'jwksUri' }>;

/** A remote JWKS's state: `fresh` (younger than jwksCacheMaxAge), `stale` (older, still usable), `expired` (past the stale tolerance), `none` (never fetched). */
export interface JwksStatus {
  readonly state: 'fresh' | 'stale' | 'expired' | 'none';
  /** Seconds since the last successful fetch (undefined before the first). */
  readonly ageSeconds: number | undefined;
  /** Whether the last fetch attempt failed. */
  readonly failing: boolean;
}

const MAX_REDIRECTS = 5;

/**
 * A remote JWKS that keeps working when its endpoint does not.
 *
 * jose's createRemoteJWKSet fails every verification once its cache is older than `cacheMaxAge`
 * and the endpoint is down. Here the keys are refetched in the background once they are older
 * than `cacheMaxAge`; while the endpoint is down they stay usable for `staleTolerance` more, then
 * every token is rejected (`jwks-unavailable`): never accepted without a known key. A token whose
 * `kid` is unknown triggers a refetch (a key rotation), at most once per `cooldown`. Each fetch is
 * time-limited by `timeout`.
 */
export class RemoteJwks {
  private select: JWTVerifyGetKey | undefined;
  private fetchedAt = 0;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<boolean> | undefined;
  private lastProblem: string | undefined;
  private keysJson: string | undefined;
  /** Called when a fetch brings a key set other than the one before: verifications made with the old keys no longer hold. */
  onKeysReplaced: () => void = () => undefined;

  constructor(
    private readonly jose: Jose,
    private readonly config: RemoteConfig,
    private readonly log: { warn(message: string): void; log(message: string): void },
  ) {}

  /** Whether a fresh verification could find keys now: none fetched yet, or past the stale tolerance, means no. */
  usable(now = Date.now()): boolean {
    return this.select !== undefined && now - this.fetchedAt <= this.config.cacheMaxAge + this.config.staleTolerance;
  }

  status(now = Date.now()): JwksStatus {
    if (this.select === undefined) return { state: 'none', ageSeconds: undefined, failing: this.lastProblem !== undefined };
    const age = now - this.fetchedAt;
    const state = age <= this.config.cacheMaxAge ? 'fresh' : age <= this.config.cacheMaxAge + this.config.staleTolerance ? 'stale' : 'expired';
    return { state, ageSeconds: age / 1000, failing: this.lastProblem !== undefined };
  }

  /** Starts the first fetch without waiting for it (so the first request rarely has to). */
  prefetch(): void {
    void this.refresh();
  }

  /**
   * Starts a background refetch when the keys are older than `cacheMaxAge` (at most once per
   * cooldown). Called on cached verifications too: they never ask for a key, yet a key dropped
   * from the JWKS must end its tokens' cached acceptance.
   */
  keepFresh(now = Date.now()): void {
    if (this.select !== undefined && now - this.fetchedAt > this.config.cacheMaxAge && now - this.lastAttempt >= this.config.cooldown) void this.refresh();
  }

  /** The key for a token's protected header, for jose's jwtVerify. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const now = Date.now();
    const age = now - this.fetchedAt;
    if (this.select === undefined || age > this.config.cacheMaxAge + this.config.staleTolerance) {
      // No usable keys: this request has to wait for a fetch (unless one just failed).
      if (now - this.lastAttempt < this.config.cooldown && this.inFlight === undefined) throw new JwtRejection('jwks-unavailable');
      if (!(await this.refresh()) && (this.select === undefined || Date.now() - this.fetchedAt > this.config.cacheMaxAge + this.config.staleTolerance)) {
        throw new JwtRejection('jwks-unavailable');
      }
    } else if (age > this.config.cacheMaxAge && now - this.lastAttempt >= this.config.cooldown) {
      void this.refresh(); // stale but within tolerance: use these keys, refetch behind the scenes
    }
    try {
      return await this.select!(header, token);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || Date.now() - this.lastAttempt < this.config.cooldown) throw error;
      // An unknown kid: maybe the issuer rotated its keys. Refetch once, then try again.
      await this.refresh();
      return await this.select!(header, token);
    }
  };

  /** Fetches the JWKS (one fetch at a time); resolves whether it succeeded. */
  private refresh(): Promise<boolean> {
    this.inFlight ??= this.fetchKeys().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /**
   * GET of the JWKS that follows a redirect (at most 5) only to a URL the `jwksUri` rule allows:
   * fetch would follow a loopback http: URL's redirect to plain http: anywhere, and use keys from
   * there. Returns the final response, or why it stopped.
   */
  private async fetchFollowingAllowedRedirects(): Promise<Response | string> {
    const signal = AbortSignal.timeout(this.config.timeout);
    let url = this.config.url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const response = await fetch(url, { signal, redirect: 'manual', headers: { accept: 'application/json' } });
      const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
      if (location === null) return response;
      await response.body?.cancel();
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return `HTTP ${response.status} with an invalid Location`;
      }
      if (!isAllowedJwksUrl(next, this.config.allowHttp)) {
        return `HTTP ${response.status} redirect to ${next.protocol}//${next.host} refused (the jwksUri rule: https:, or http: to a loopback host)`;
      }
      url = next;
    }
    return `more than ${MAX_REDIRECTS} redirects`;
  }

  private async fetchKeys(): Promise<boolean> {
    this.lastAttempt = Date.now();
    let problem: string;
    try {
      const response = await this.fetchFollowingAllowedRedirects();
      if (typeof response === 'string') {
        problem = response;
      } else if (response.ok) {
        const body = (await response.json()) as { keys?: unknown };
        const keys = Array.isArray(body?.keys)
          ? (body.keys as DaprJwk[]).filter((jwk) => jwk && typeof jwk.kty === 'string' && jwk.kty !== 'oct' && !('d' in jwk))
          : [];
        if (keys.length > 0) {
          const json = JSON.stringify(keys);
          if (this.keysJson !== undefined && json !== this.keysJson) this.onKeysReplaced();
          this.keysJson = json;
          this.select = this.jose.createLocalJWKSet({ keys });
          this.fetchedAt = Date.now();
          if (this.lastProblem !== undefined)
            this.log.log(`JWKS ${this.config.url.origin}${this.config.url.pathname} is reachable again (${keys.length} keys).`);
          this.lastProblem = undefined;
          return true;
        }
        problem = 'it holds no usable public key';
      } else {
        problem = `HTTP ${response.status}`;
      }
    } catch (error) {
      problem = (error as Error).name === 'TimeoutError' ? `no answer within ${this.config.timeout} ms` : `fetch failed (${(error as Error).name})`;
    }
    if (problem !== this.lastProblem) {
      this.lastProblem = problem;
      const kept =
        this.select === undefined
          ? 'no keys known yet: tokens are rejected'
          : `still using the keys fetched ${Math.round((Date.now() - this.fetchedAt) / 1000)} s ago, for up to ${Math.round((this.config.cacheMaxAge + this.config.staleTolerance) / 1000)} s after that fetch`;
      this.log.warn(`JWKS ${this.config.url.origin}${this.config.url.pathname}: ${problem}; ${kept}.`);
    }
    return false;
  }
}
