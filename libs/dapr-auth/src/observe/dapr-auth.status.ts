import type { Logger } from '@nestjs/common';
import type { DecisionOutcome, DecisionRecorder, TokenGeneration } from './metrics/decision-recorder.js';
import type { SidecarApiCheck, SidecarApiStatus } from '../callers/sidecar-api-check.js';
import type { SidecarWiringCheck, SidecarWiringStatus } from '../wiring/sidecar-wiring-check.js';
import type { DaprTokenSource } from '../tokens/dapr-token-source.js';
import { FileTokenSource } from '../tokens/file-token-source.js';

/** How often a rotation in progress is reported: at most one line per interval. */
export const ROTATION_REPORT_INTERVAL = 60_000;

/**
 * What the guard knows about a token rotation and its decisions, for your own endpoints (inject
 * `DaprAuthStatus`). It also writes the rotation's progress to the log: while a previous token is
 * accepted, at most once a minute how many requests still used it, and once it has not been used
 * for `rotationQuietPeriod`, one line saying the rotation can be completed.
 */
export class DaprAuthStatus implements DecisionRecorder {
  private previousUses = 0;
  private previousUsesThisInterval = 0;
  private lastPreviousUse: number | undefined;
  private rotationStartedAt: number | undefined;
  private completionAnnounced = false;
  // Named fields, not an indexed record: this runs on every request (bench/history.md).
  private acceptedCalls = 0;
  private rejected = 0;
  private exempt = 0;
  private public = 0;
  private deferred = 0;
  private timer: NodeJS.Timeout | undefined;

  /** @internal The module builds it. */
  constructor(
    private readonly tokenSource: DaprTokenSource | null,
    private readonly quietPeriod: number,
    private readonly logger: Pick<Logger, 'log' | 'warn'>,
    private readonly interval = ROTATION_REPORT_INTERVAL,
    private readonly sidecarApiCheck: SidecarApiCheck | null = null,
    private readonly wiringCheck: SidecarWiringCheck | null = null,
  ) {}

  /**
   * How daprd calls the app compared with what the app serves (its `GET /v1.0/metadata`: app port
   * and protocol, health probe path, subscription routes), read once daprd's API answers and again
   * at each re-check: `findings` lists what disagrees (`error`: a `@DaprPublic()` handler serves a
   * subscription route; `warn`: a route nothing serves, a port, protocol or probe path that misses).
   * `not-checked` where the app does not know its daprd (see {@link sidecarApi}).
   */
  get sidecarWiring(): SidecarWiringStatus {
    return this.wiringCheck?.status() ?? { state: 'not-checked', findings: [] };
  }

  /**
   * Whether the app's own daprd refuses clients without `DAPR_API_TOKEN`, as checked after start
   * and again every few minutes ({@link SidecarApiStatus}): `requires-token` once proven; `open`,
   * `token-refused`, `unproven`, `unexpected`, `unreachable` say why not; `checking` before the
   * first conclusive answer; `not-checked` without `DAPR_HTTP_PORT` or with `sidecarApiCheck: false`.
   */
  get sidecarApi(): SidecarApiStatus {
    return this.sidecarApiCheck?.status() ?? { state: 'not-checked' };
  }

  /**
   * Whether the app's caller rules (`@DaprCallers()`, `callers`) refuse every call right now (HTTP
   * 403 / gRPC 7, logged reason `sidecar-api-unverified`): it has some, the sidecar check runs, has
   * not proven that daprd's API requires `DAPR_API_TOKEN` (yet, or any more), and
   * `allowForgeableCallers` is off.
   */
  get callerRulesRefused(): boolean {
    return this.sidecarApiCheck?.refusingCallerRules ?? false;
  }

  /** Tokens accepted right now (more than one while a rotation is in progress). */
  get acceptedTokens(): number {
    return this.tokenSource?.getTokens().length ?? 0;
  }

  /** Whether a previous token is still accepted (a list of tokens, or a token file's grace period). */
  get rotationInProgress(): boolean {
    return this.acceptedTokens > 1;
  }

  /** Requests that carried a previous token, since start-up. */
  get previousTokenUses(): number {
    return this.previousUses;
  }

  /** When a previous token was last used, if ever. */
  get lastPreviousTokenUse(): Date | undefined {
    return this.lastPreviousUse === undefined ? undefined : new Date(this.lastPreviousUse);
  }

  /**
   * Whether the rotation can be completed: a previous token is still accepted, but none has been
   * used for `rotationQuietPeriod` (every sidecar sends the new one).
   */
  get rotationCanComplete(): boolean {
    if (!this.rotationInProgress) return false;
    const since = this.lastPreviousUse ?? this.rotationStartedAt ?? Date.now();
    return Date.now() - since >= this.quietPeriod;
  }

  /** Decisions since start-up, by outcome. */
  get decisions(): Readonly<Record<DecisionOutcome, number>> {
    return { accepted: this.acceptedCalls, rejected: this.rejected, exempt: this.exempt, public: this.public, deferred: this.deferred };
  }

  /** Seconds the previous token of a token file stays accepted (undefined for other sources). */
  get gracePeriodRemaining(): number | undefined {
    return this.tokenSource instanceof FileTokenSource ? this.tokenSource.status().graceRemainingMs / 1000 : undefined;
  }

  /** @internal */
  decision(_transport: string, outcome: Exclude<DecisionOutcome, 'accepted'>): void {
    if (outcome === 'rejected') this.rejected++;
    else if (outcome === 'exempt') this.exempt++;
    else if (outcome === 'deferred') this.deferred++;
    else this.public++;
  }

  /** @internal */
  accepted(_transport: string, generation: TokenGeneration): void {
    this.acceptedCalls++;
    if (generation !== 'previous') return;
    this.previousUses++;
    this.previousUsesThisInterval++;
    this.lastPreviousUse = Date.now();
    this.completionAnnounced = false;
  }

  /** @internal Starts the rotation report. */
  start(): void {
    this.timer = setInterval(() => this.report(), this.interval);
    this.timer.unref();
  }

  /** @internal */
  stop(): void {
    clearInterval(this.timer);
  }

  private report(): void {
    if (!this.rotationInProgress) {
      this.rotationStartedAt = undefined;
      this.completionAnnounced = false;
      this.previousUsesThisInterval = 0;
      return;
    }
    this.rotationStartedAt ??= Date.now();
    const remaining = this.gracePeriodRemaining;
    const left = remaining === undefined ? '' : `; it stays accepted for ${Math.round(remaining)} s more`;
    if (this.previousUsesThisInterval > 0) {
      this.logger.log(
        `Token rotation: ${this.previousUsesThisInterval} request(s) used a previous token in the last ${Math.round(this.interval / 1000)} s${left}.`,
      );
      this.previousUsesThisInterval = 0;
    } else if (this.rotationCanComplete && !this.completionAnnounced) {
      this.completionAnnounced = true;
      this.logger.log(
        `Token rotation: no request has used a previous token for ${Math.round(this.quietPeriod / 1000)} s: every sidecar sends the new one. ` +
          'The rotation can be completed (drop the old token; with tokenFile, its grace period ends by itself).',
      );
    }
  }
}

/** Both recorders, when metrics are on. */
export function combineRecorders(first: DecisionRecorder, second: DecisionRecorder): DecisionRecorder {
  return {
    target: first.target ?? second.target,
    decision: (transport, outcome, reason) => {
      first.decision(transport, outcome, reason);
      second.decision(transport, outcome, reason);
    },
    accepted: (transport, generation, kid) => {
      first.accepted(transport, generation, kid);
      second.accepted(transport, generation, kid);
    },
  };
}
