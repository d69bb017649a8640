import type { Logger } from '@nestjs/common';
import type { SidecarApiCheck, SidecarApiState } from '../callers/sidecar-api-check.js';
import { compareWiring, readDaprdWiring, type DaprdWiring, type ServedApp, type SidecarWiringFinding } from './compare-wiring.js';

/**
 * How far the wiring check got:
 * - `not-checked`: the app does not know its daprd (`DAPR_HTTP_PORT` unset, or `sidecarApiCheck: false`);
 * - `waiting`: not read yet (daprd's API not answered conclusively, or the app not listening yet);
 * - `checked`: daprd's metadata was read and compared (`findings` says what disagrees; empty: nothing);
 * - `unreadable`: daprd's API answered, but its metadata could not be read (`failure` says why).
 */
export type SidecarWiringState = 'not-checked' | 'waiting' | 'checked' | 'unreadable';

/** What the wiring check found ({@link SidecarWiringState}), for `DaprAuthStatus.sidecarWiring`. */
export interface SidecarWiringStatus {
  readonly state: SidecarWiringState;
  /** What disagrees, most serious first (each also logged once). */
  readonly findings: readonly SidecarWiringFinding[];
  /** What daprd said, as compared (`checked` only). */
  readonly daprd?: { readonly appPort?: number; readonly protocol?: string; readonly healthCheckPath?: string; readonly subscriptions: number };
  /** Why daprd's metadata could not be read (`unreadable` only): a status or an error code, never a header value. */
  readonly failure?: string;
}

/**
 * @internal How the check paces itself; a test shortens these. Not part of the public API.
 */
export const SIDECAR_WIRING_TIMING = {
  /** A second look after the first: daprd asks the app for its programmatic subscriptions once the app is reachable. */
  secondLookMs: 30_000,
  /** While the app's HTTP server does not listen yet (between app.init() and listen()), looked at again this often... */
  notListeningRetryMs: 1_000,
  /** ...this many times at most. */
  notListeningRetries: 120,
};

/**
 * Compares what daprd says of how it calls the app (`GET /v1.0/metadata`: the app port and
 * protocol, the health path it probes, every subscription's route) with what the Nest app serves,
 * where the app knows its daprd: each time the sidecar API check settles with daprd's API readable
 * (`requires-token`: read with this app's `DAPR_API_TOKEN`; `open`), once more a little later, and
 * at each re-check. A `@DaprPublic()` handler serving a subscription route is an error (an open
 * subscription); a route nothing serves, a port or protocol that misses the Nest app, or a probe
 * path the module does not exempt, a warning. Each finding is one log line, once; it never delays
 * start-up and never refuses a call.
 */
export class SidecarWiringCheck {
  private current: SidecarWiringStatus;
  private served: (() => ServedApp) | undefined;
  private readonly logged = new Set<string>();
  private secondLook: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private notListening = 0;
  private looking = false;

  /** @internal The module builds it. */
  constructor(
    private readonly api: SidecarApiCheck,
    private readonly logger: Pick<Logger, 'log' | 'warn' | 'error'>,
  ) {
    this.current = { state: api.status().address === undefined ? 'not-checked' : 'waiting', findings: [] };
    if (this.current.state === 'waiting') api.onSettled((state) => this.onApiSettled(state));
  }

  status(): SidecarWiringStatus {
    return this.current;
  }

  /** @internal Starts comparing with what `served` says the app serves (read at each look: the port is known only once it listens). */
  start(served: () => ServedApp): void {
    this.served = served;
  }

  /** @internal Application shutdown: no more looks until the API check settles again. */
  stop(): void {
    clearTimeout(this.secondLook);
    clearTimeout(this.retry);
    this.secondLook = this.retry = undefined;
  }

  private onApiSettled(state: SidecarApiState): void {
    if (state !== 'requires-token' && state !== 'open') return;
    this.notListening = 0;
    void this.look();
    if (this.secondLook === undefined) {
      this.secondLook = setTimeout(() => void this.look(), SIDECAR_WIRING_TIMING.secondLookMs);
      this.secondLook.unref();
    }
  }

  private async look(): Promise<void> {
    const app = this.served?.();
    if (app === undefined || this.looking) return;
    if (app.httpServer && app.httpPort === undefined) {
      // Between app.init() and listen(): the port to compare is not known yet.
      if (this.notListening++ < SIDECAR_WIRING_TIMING.notListeningRetries) {
        clearTimeout(this.retry);
        this.retry = setTimeout(() => void this.look(), SIDECAR_WIRING_TIMING.notListeningRetryMs);
        this.retry.unref();
      }
      return;
    }
    this.looking = true;
    try {
      const answer = await this.api.readMetadata();
      if ('failure' in answer) {
        this.current = { state: 'unreadable', findings: [], failure: answer.failure };
        this.logOnce('warn', `Sidecar wiring: daprd's metadata (GET /v1.0/metadata) could not be read (${answer.failure}): its wiring is not compared.`);
        return;
      }
      const daprd = readDaprdWiring(answer.body);
      if (!daprd.recognised) {
        this.current = { state: 'unreadable', findings: [], failure: 'not daprd metadata (no id, no appConnectionProperties)' };
        this.logOnce(
          'warn',
          "Sidecar wiring: what answers GET /v1.0/metadata is not daprd's metadata (no id, no appConnectionProperties): its wiring is not compared.",
        );
        return;
      }
      // Names from the answer are shown (made printable, cut to 200 characters), never the token sent for it.
      const redact = (text: string) => this.api.redactSecret(text);
      const findings = compareWiring(daprd, app, redact);
      const shown = { ...daprd, protocol: daprd.protocol && redact(daprd.protocol), healthCheckPath: daprd.healthCheckPath && redact(daprd.healthCheckPath) };
      this.current = { state: 'checked', findings, daprd: summary(shown) };
      for (const finding of findings) this.logOnce(finding.level, `Sidecar wiring: ${finding.message}`);
      if (findings.length === 0) this.logOnce('log', `Sidecar wiring: daprd's calls match this app (${describe(shown)}).`);
    } finally {
      this.looking = false;
    }
  }

  /** Each line once: a finding that stays is not repeated at every look; past a bound, one line says the rest is in the status. */
  private logOnce(level: 'log' | 'warn' | 'error', line: string): void {
    if (this.logged.has(line) || this.logged.size > MAX_LOGGED_LINES) return;
    this.logged.add(line);
    if (this.logged.size > MAX_LOGGED_LINES) {
      this.logger.warn(`Sidecar wiring: more than ${MAX_LOGGED_LINES} findings; the rest are not logged (DaprAuthStatus.sidecarWiring lists them).`);
      return;
    }
    this.logger[level](line);
  }
}

/** Distinct lines the check logs at most over the app's life. */
const MAX_LOGGED_LINES = 50;

function summary(daprd: DaprdWiring): NonNullable<SidecarWiringStatus['daprd']> {
  return {
    appPort: daprd.appPort,
    protocol: daprd.protocol,
    healthCheckPath: daprd.healthCheckPath,
    subscriptions: daprd.subscriptions.length + daprd.omittedSubscriptions,
  };
}

function describe(daprd: DaprdWiring): string {
  const parts = [
    daprd.appPort === undefined ? 'no app port' : `${daprd.protocol ?? 'http'} on port ${daprd.appPort}`,
    ...(daprd.healthCheckPath === undefined ? [] : [`health probe ${daprd.healthCheckPath}`]),
    `${daprd.subscriptions.length} subscription(s)`,
  ];
  return parts.join(', ');
}
