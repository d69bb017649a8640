import type { JwtVerifier } from '../jwt/jwt-verifier.js';
import type { SidecarApiCheck } from '../callers/sidecar-api-check.js';
import type { SidecarWiringCheck } from '../wiring/sidecar-wiring-check.js';
import type { DaprTokenSource } from '../tokens/dapr-token-source.js';
import { FileTokenSource } from '../tokens/file-token-source.js';

/** The shape `@nestjs/terminus` reads (`HealthIndicatorResult`), without importing it: terminus is an optional peer. */
export type DaprAuthHealthResult = Record<string, { status: 'up' | 'degraded' | 'down'; [detail: string]: unknown }>;

/**
 * A health indicator for a readiness endpoint, e.g. with `@nestjs/terminus`:
 * `this.health.check([() => this.daprAuth.isHealthy()])`. It reports the token source: how many
 * tokens are accepted; a `tokenFile` that cannot be read now (`degraded`: the last good token is
 * still accepted); a remote JWKS that is `stale` (`degraded`) or `expired` / never fetched
 * (`down`: every JWT is rejected); the sidecar check (`sidecarApi`, see `sidecarApiCheck`): the
 * app's own daprd API found `open` to clients without `DAPR_API_TOKEN`, or not proven to require
 * it (`token-refused`, `unproven`, `unexpected`, `unreachable`) is `degraded`, with
 * `callerRulesRefused: true` while caller rules refuse every call for it; the wiring check
 * (`sidecarWiring`: its state and how many errors and warnings it found): an error (a
 * `@DaprPublic()` handler serving a subscription route) is `degraded`. Never a token. Terminus
 * itself is not imported.
 *
 * Keep daprd's own health probe (`--app-health-check-path`) on the plain, exempt route: a probe
 * that fails with the token source would make daprd stop sending traffic, for a condition the
 * guard rides out by itself.
 */
export class DaprAuthHealthIndicator {
  /** @internal The module builds it. */
  constructor(
    private readonly tokenSource: DaprTokenSource | null,
    private readonly jwt: JwtVerifier | null,
    private readonly sidecarApiCheck: SidecarApiCheck | null = null,
    private readonly wiringCheck: SidecarWiringCheck | null = null,
  ) {}

  isHealthy(key = 'dapr-auth'): DaprAuthHealthResult {
    const details: Record<string, unknown> = {};
    let status: 'up' | 'degraded' | 'down' = 'up';
    const worsen = (to: 'degraded' | 'down') => {
      if (status === 'down' || (status === 'degraded' && to === 'degraded')) return;
      status = to;
    };
    if (this.tokenSource) {
      details.acceptedTokens = this.tokenSource.getTokens().length;
      if (details.acceptedTokens === 0) worsen('down');
    }
    if (this.tokenSource instanceof FileTokenSource) {
      const file = this.tokenSource.status();
      details.tokenFile = { readable: !file.failing, lastGoodReadSecondsAgo: Math.round((Date.now() - file.lastGoodReadAt) / 1000) };
      if (file.failing) worsen('degraded');
    }
    const jwks = this.jwt?.jwksStatus();
    if (jwks) {
      details.jwks = { state: jwks.state, ageSeconds: jwks.ageSeconds === undefined ? undefined : Math.round(jwks.ageSeconds) };
      if (jwks.state === 'stale') worsen('degraded');
      if (jwks.state === 'expired' || jwks.state === 'none') worsen('down');
    }
    const sidecar = this.sidecarApiCheck?.status();
    if (sidecar && sidecar.state !== 'not-checked') {
      details.sidecarApi = sidecar.state;
      if (this.sidecarApiCheck!.refusingCallerRules) details.callerRulesRefused = true;
      // Calls without a caller rule still work; what is wrong is who else can send them (and, where
      // the check holds them shut, that caller rules refuse every call). `checking` is start-up.
      if (sidecar.state !== 'requires-token' && sidecar.state !== 'checking') worsen('degraded');
    }
    const wiring = this.wiringCheck?.status();
    if (wiring && wiring.state !== 'not-checked') {
      const errors = wiring.findings.filter((finding) => finding.level === 'error').length;
      details.sidecarWiring = { state: wiring.state, errors, warnings: wiring.findings.length - errors };
      // An open subscription is something anyone can use; the warnings are about calls that fail.
      if (errors > 0) worsen('degraded');
    }
    return { [key]: { status, ...details } };
  }
}
