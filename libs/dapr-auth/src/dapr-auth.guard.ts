import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  DAPR_AUTH_RESOLVED_OPTIONS,
  DAPR_DECISION_RECORDER,
  DAPR_HANDLER_ACCESS_INDEX,
  DAPR_JWT_VERIFIER,
  DAPR_REJECTION_LOG,
  DAPR_REPORT_ONLY_MONITOR,
  DAPR_TOKEN_SOURCE,
  DAPR_TRANSPORT_ADAPTERS,
} from './dapr-auth.constants.js';
import type { ResolvedDaprAuthOptions } from './options/dapr-auth.options.js';
import { type AllowedCaller, type CallerRejection, type DaprCallerIdentity, isAllowed, malformedCallerDetail, readCaller } from './callers/caller-rule.js';
import { rememberCaller } from './callers/verified-caller.js';
import { SidecarApiCheck, type SidecarApiRejection } from './callers/sidecar-api-check.js';
import type { PresentedToken, RejectionKind, TokenRejection } from './pipeline.types.js';
import { DAPR_AUTH_GUARD_MARK, type HandlerAccess, HandlerAccessIndex } from './access/handler-access.js';
import { JWT_FAILURE_TEXT, type JwtOutcome, type JwtVerifier } from './jwt/jwt-verifier.js';
import type { JwtFailure } from './jwt/jwt-rejection.js';
import { rememberClaims } from './jwt/verified-claims.js';
import { rememberVerifiedDaprCall } from './access/verified-dapr-call.js';
import type { DaprTokenSource } from './tokens/dapr-token-source.js';
import { type DecisionRecorder, NO_RECORDER, type TokenGeneration } from './observe/metrics/decision-recorder.js';
import { RejectionLog } from './observe/rejection-log.js';
import type { ReportOnlyMonitor } from './observe/report-only-monitor.js';
import { malformedTokenDetail } from './tokens/token-format.js';
import { TokenVerifier } from './tokens/token-verifier.js';
import type { TransportAdapter } from './transports/transport-adapter.js';

/** @internal The module hands a test's replacement every decision through this (not in the public API: only Nest's testing overrides reach it). */
export const OVERRIDE_DECISIONS = Symbol('nestjs-dapr-auth:override-decisions');
/** @internal The module makes every guard of an app refuse every call once its start-up was refused. */
export const REFUSE_EVERY_CALL = Symbol('nestjs-dapr-auth:refuse-every-call');

/**
 * The one guard: lets a request through only if it carries the Dapr sidecar's app API token.
 *
 * ```
 * canActivate ─ exempt?  @DaprPublic(), or a call daprd makes without a token (health, discovery)
 *             ─ extract  the transport adapter reads header / metadata `dapr-api-token`
 *             ─ verify   TokenVerifier: format, then constant-time match against the accepted tokens;
 *                        with `jwt`, JwtVerifier too (a cached result, else jose: async)
 *             ─ caller   with `@DaprCallers` (or the module's `callers`): the caller app id daprd
 *                        stamped, read by the same adapter, must be exactly one listed value
 *             ─ reject   the transport adapter shapes it (HTTP 401 / gRPC 16; a caller: 403 / 7);
 *                        the reason is logged
 * ```
 *
 * Apply it with `@UseGuards(DaprAuthGuard)`, `@DaprProtected()`, or `global: true`. Extend it and
 * override the protected hooks to change one step.
 */
@Injectable()
export class DaprAuthGuard implements CanActivate {
  /** Lets start-up code recognise this guard and its subclasses in `@UseGuards` metadata. */
  static readonly [DAPR_AUTH_GUARD_MARK] = true;
  protected readonly logger = new Logger('DaprAuthGuard');
  protected readonly verifier: TokenVerifier;
  private readonly hasTokenSource: boolean;
  /** Whether there is anything to verify against (false only with `allowUnconfigured` and no token). */
  private readonly verifies: boolean;
  /** Adapters found by the context's type alone (see TransportAdapter.contextType). */
  private readonly adapterOfType: ReadonlyMap<string, TransportAdapter>;
  /** What decides instead: a test's replacement (`overrideGuard` / `overrideProvider`), or a refusal of everything; the module sets it. */
  private standIn: CanActivate | undefined;

  constructor(
    protected readonly reflector: Reflector,
    @Optional() @Inject(DAPR_AUTH_RESOLVED_OPTIONS) protected readonly options: ResolvedDaprAuthOptions,
    @Optional() @Inject(DAPR_TRANSPORT_ADAPTERS) protected readonly adapters: readonly TransportAdapter[],
    @Optional() @Inject(DAPR_TOKEN_SOURCE) tokenSource: DaprTokenSource | null,
    @Optional() @Inject(DAPR_JWT_VERIFIER) protected readonly jwt: JwtVerifier | null = null,
    @Optional() @Inject(DAPR_REPORT_ONLY_MONITOR) private readonly reportOnly: ReportOnlyMonitor | null = null,
    @Optional() @Inject(DAPR_DECISION_RECORDER) private readonly recorder: DecisionRecorder = NO_RECORDER,
    @Optional() @Inject(DAPR_REJECTION_LOG) private readonly rejectionLog: RejectionLog | null = null,
    @Optional() @Inject(DAPR_HANDLER_ACCESS_INDEX) private readonly accessIndex: HandlerAccessIndex | null = null,
    @Optional() @Inject(SidecarApiCheck) private readonly sidecarApi: SidecarApiCheck | null = null,
  ) {
    if (!options || !adapters) {
      throw new Error('DaprAuthGuard needs DaprAuthModule: add DaprAuthModule.forRoot() or forRootAsync() to the imports of your root module.');
    }
    // Whether a refused token is classified (malformed or mismatch) as it is refused: only where
    // every rejection's reason is seen (metrics, a logRejection of the app's own). Otherwise only
    // a rejection that is logged line by line is, and a flood costs no format check.
    const reasonsSeenByAll = options.metrics !== undefined || this.logRejection !== DaprAuthGuard.prototype.logRejection;
    this.verifier = new TokenVerifier(tokenSource ?? undefined, options.maxTokenLength, jwt !== null, reasonsSeenByAll);
    this.hasTokenSource = tokenSource !== null && tokenSource !== undefined;
    // Without a token source and JWT (allowUnconfigured) the guard lets everything through: nothing is verified then.
    this.verifies = this.hasTokenSource || jwt !== null;
    this.recorder ??= NO_RECORDER;
    // Without the module's shared one (a guard built by hand), a limit of its own.
    this.rejectionLog ??= new RejectionLog(this.logger, options.logRejections, options.rejectionLogLimit);
    // Without the module's (filled at start-up from Nest's own classes), one of its own that reads on first use.
    this.accessIndex ??= new HandlerAccessIndex();
    this.adapterOfType = adaptersByContextType(adapters);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    // Kept short (V8 inlines a function of under 460 bytes of bytecode into its caller, and a
    // rejection thrown from inlined code costs about half: bench/history.md); each rarer step is
    // a method of its own.
    // A test's replacement, or the refusal of a failed start-up (see OVERRIDE_DECISIONS); Nest also takes the Observable a stand-in may return.
    if (this.standIn !== undefined) return this.standIn.canActivate(context) as boolean | Promise<boolean>;
    // Read once per request and handed down: the exemption and the caller step both need it.
    const access = this.handlerAccess(context);
    if (this.leavesToRouteGuard(access)) return true;
    const adapter = this.adapterFor(context);
    if (this.isExempt(context, adapter, access)) return this.exempt(adapter, access);
    const presented = this.extractToken(context, adapter);
    const reason = this.verifier.verify(presented);
    if (reason !== undefined) {
      // Thrown here, not deeper: each frame a throw unwinds costs (bench/history.md).
      const refusal = this.reject(context, adapter, reason);
      if (refusal instanceof Error) throw refusal;
      return refusal;
    }
    if (this.jwt !== null) return this.checkJwt(context, adapter, presented, access);
    // Which accepted token matched: the first is the current one, others are in a rotation's grace period.
    return this.checkCaller(context, adapter, this.verifier.lastMatch > 0 ? 'previous' : 'current', undefined, access);
  }

  /** A request let through without a token: `@DaprPublic()`, or a call daprd makes without one. */
  private exempt(adapter: TransportAdapter, access: HandlerAccess): true {
    this.recorder.decision(adapter.transport, access.access === 'public' ? 'public' : 'exempt');
    return true;
  }

  /** JWT mode, after the token's format (and, with a token source, its match) passed: a cached result, else jose (async). */
  private checkJwt(context: ExecutionContext, adapter: TransportAdapter, presented: PresentedToken, access: HandlerAccess): boolean | Promise<boolean> {
    const jwt = this.jwt!;
    const generation: TokenGeneration = this.hasTokenSource ? (this.verifier.lastMatch > 0 ? 'previous' : 'current') : 'jwt';
    // The format check passed, so this is one well-formed string.
    const token = (Array.isArray(presented) ? presented[0] : presented) as string;
    const cached = jwt.cached(token);
    if (cached !== undefined) {
      rememberClaims(context, cached.claims);
      return this.checkCaller(context, adapter, generation, cached.kid, access);
    }
    return jwt.verify(token).then((outcome: JwtOutcome) => {
      if (!outcome.ok) return refused(this.reject(context, adapter, `jwt:${outcome.failure}`));
      rememberClaims(context, outcome.verified.claims);
      return this.checkCaller(context, adapter, generation, outcome.verified.kid, access);
    });
  }

  /**
   * The step after the token: with `@DaprCallers` on the handler or its class (else the module's
   * `callers`), the caller must be exactly one well-formed, listed app id (docs/caller-identity.md).
   * Without a rule, a handler with a `@DaprCaller()` parameter gets the adapter remembered, so that
   * the decorator can read the caller; every other request spends nothing on callers.
   */
  protected checkCaller(
    context: ExecutionContext,
    adapter: TransportAdapter,
    generation: TokenGeneration = 'current',
    kid?: string,
    access: HandlerAccess = this.handlerAccess(context),
  ): boolean | Promise<boolean> {
    const allowed = access.callers ?? this.options.callers;
    if (allowed === undefined) {
      if (access.wantsCaller) rememberCaller(context, adapter);
      return this.accept(context, adapter, generation, kid);
    }
    const caller = readCaller(adapter.readCaller(context));
    if (typeof caller === 'string') return refused(this.reject(context, adapter, caller, 'forbidden'));
    // Remembered before the verdict: in report-only mode the handler runs and can see who called.
    rememberCaller(context, caller);
    const refusal = this.callerRefusal(caller, allowed);
    if (refusal !== undefined) return refused(this.reject(context, adapter, refusal, 'forbidden', caller));
    return this.accept(context, adapter, generation, kid);
  }

  /** Why a well-formed caller is refused, if it is: not listed, or the rules are held shut. */
  private callerRefusal(caller: DaprCallerIdentity, allowed: readonly AllowedCaller[]): 'caller-not-allowed' | SidecarApiRejection | undefined {
    if (!isAllowed(caller, allowed)) return 'caller-not-allowed';
    // A listed caller is only as good as daprd's API is closed: where the app knows its daprd, the
    // sidecar check holds every rule shut until it has proven that API requires DAPR_API_TOKEN (one
    // field read; absent from a guard built without the module, and without DAPR_HTTP_PORT false).
    if (this.sidecarApi?.refusesCallers) {
      this.sidecarApi.resumeIfStopped(); // served again after a shutdown: prove it again
      return 'sidecar-api-unverified';
    }
    return undefined;
  }

  /**
   * The check without its refusal, for a `@DaprOrAppGuard()` handler (what a guard made by
   * `daprOr()` runs first, through `DaprAuthRules.verifyDaprCall`): `true` when the request is a
   * verified Dapr call (the token, JWT and caller rule all pass, exactly as {@link canActivate}
   * would accept it: recorded `accepted` and remembered for `isVerifiedDaprCall`), else `false`,
   * recorded `deferred` with the reason and logged at debug level only, never as a rejection: the
   * app's own guard decides next. Report-only mode changes nothing here (a request that fails is
   * never let through by it). daprd's token-less health probe passes, as it does everywhere, on the
   * handler start-up found it reaches, without being remembered as verified.
   */
  verifyDaprCall(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.standIn !== undefined) return this.standIn.canActivate(context) as boolean | Promise<boolean>;
    const adapter = this.adapterFor(context);
    const access = this.handlerAccess(context);
    // daprd's token-less probe on a handler start-up found it reaches (a class-level @DaprOrAppGuard():
    // on the method, start-up refuses it): let through as everywhere, never remembered as verified.
    if (access.tokenless && adapter.isTokenlessDaprCall(context)) return this.exempt(adapter, access);
    // allowUnconfigured without a token: the guard would let everything through, so nothing here is verified.
    if (!this.verifies) return this.defer(context, adapter, 'missing');
    const presented = this.extractToken(context, adapter);
    const reason = this.verifier.verify(presented);
    if (reason !== undefined) return this.defer(context, adapter, reason);
    if (this.jwt === null) return this.verifiedCaller(context, adapter, this.verifier.lastMatch > 0 ? 'previous' : 'current', undefined, access);
    const jwt = this.jwt;
    const generation: TokenGeneration = this.hasTokenSource ? (this.verifier.lastMatch > 0 ? 'previous' : 'current') : 'jwt';
    const token = (Array.isArray(presented) ? presented[0] : presented) as string;
    const cached = jwt.cached(token);
    if (cached !== undefined) {
      rememberClaims(context, cached.claims);
      return this.verifiedCaller(context, adapter, generation, cached.kid, access);
    }
    return jwt.verify(token).then((outcome: JwtOutcome) => {
      if (!outcome.ok) return this.defer(context, adapter, `jwt:${outcome.failure}`);
      rememberClaims(context, outcome.verified.claims);
      return this.verifiedCaller(context, adapter, generation, outcome.verified.kid, access);
    });
  }

  /** Whether the request is one daprd makes without a token, on a handler start-up found it reaches (see {@link isExempt}). */
  isTokenlessDaprCall(context: ExecutionContext): boolean {
    return this.handlerAccess(context).tokenless && this.adapterFor(context).isTokenlessDaprCall(context);
  }

  /** {@link checkCaller} without its refusal: the caller is remembered only when it passes. */
  private verifiedCaller(
    context: ExecutionContext,
    adapter: TransportAdapter,
    generation: TokenGeneration,
    kid: string | undefined,
    access: HandlerAccess,
  ): boolean {
    const allowed = access.callers ?? this.options.callers;
    if (allowed === undefined) {
      if (access.wantsCaller) rememberCaller(context, adapter);
      return this.accept(context, adapter, generation, kid);
    }
    const caller = readCaller(adapter.readCaller(context));
    if (typeof caller === 'string') return this.defer(context, adapter, caller);
    const refusal = this.callerRefusal(caller, allowed);
    if (refusal !== undefined) return this.defer(context, adapter, refusal);
    rememberCaller(context, caller);
    return this.accept(context, adapter, generation, kid);
  }

  /** A `@DaprOrAppGuard()` request that is not a verified Dapr call: recorded `deferred`, left to the app's guard. */
  private defer(context: ExecutionContext, adapter: TransportAdapter, reason: RejectionReason): false {
    this.recorder.decision(adapter.transport, 'deferred', reason);
    if (Logger.isLevelEnabled('debug')) {
      this.logger.debug(`Left to the app's own guard (not a verified Dapr call: ${reason}): ${adapter.transport} ${adapter.describeTarget(context)}`);
    }
    return false;
  }

  /**
   * @internal Hands every decision of this guard to `standIn`: what a test gave
   * `Test.createTestingModule(...).overrideGuard(DaprAuthGuard)`, so that the override reaches the
   * global guard and the message handlers `global: true` guards, not only `@UseGuards` sites.
   */
  [OVERRIDE_DECISIONS](standIn: CanActivate): void {
    this.standIn = standIn;
  }

  /** @internal Start-up was refused after a server may have started serving (hybrid apps): refuse every call until the app is closed. */
  [REFUSE_EVERY_CALL](): void {
    this.standIn = { canActivate: (context) => refused(this.adapterFor(context).reject(context, 'unauthenticated')) };
  }

  /** The one place a request is accepted: remembered (DaprAuthRules.isVerifiedDaprCall), recorded (metrics), then let through. */
  private accept(context: ExecutionContext, adapter: TransportAdapter, generation: TokenGeneration, kid: string | undefined): true {
    if (this.verifies) rememberVerifiedDaprCall(context);
    this.recorder.accepted(adapter.transport, generation, kid);
    return true;
  }

  /**
   * The one place a request is refused: logged, recorded, then (unless in report-only mode) shaped
   * by the transport adapter. Returns the exception for the caller to throw, or what to return.
   */
  private reject(
    context: ExecutionContext,
    adapter: TransportAdapter,
    reason: RejectionReason,
    kind: RejectionKind = 'unauthenticated',
    caller?: DaprCallerIdentity,
  ): Error | boolean | Promise<boolean> {
    this.logRejection(context, adapter, reason, caller);
    this.recorder.decision(adapter.transport, 'rejected', reason);
    if (this.reportOnly !== null) {
      // Report-only mode: the decision is made and logged, and the request goes on.
      this.reportOnly.count();
      return true;
    }
    return adapter.reject(context, kind);
  }

  /** Whether the request skips the check: `@DaprPublic()`, or a call daprd sends without a token. */
  protected isExempt(context: ExecutionContext, adapter: TransportAdapter, access: HandlerAccess = this.handlerAccess(context)): boolean {
    // `tokenless`: start-up found daprd calls this handler without a token (and exemptTokenlessDaprCalls is on).
    return access.access === 'public' || (access.tokenless && adapter.isTokenlessDaprCall(context));
  }

  /**
   * Whether this guard leaves the handler to another guard: a `@DaprOrAppGuard()` handler, which a
   * guard made by `daprOr()` decides (start-up refuses such a handler that none covers). The global
   * guard (`global: true`) also leaves route-guarded handlers to their route guard.
   */
  protected leavesToRouteGuard(access: HandlerAccess): boolean {
    return access.access === 'dapr-or-app-guard';
  }

  /** The presented token value(s). Override to read it from somewhere else. */
  protected extractToken(context: ExecutionContext, adapter: TransportAdapter): PresentedToken {
    return adapter.extractToken(context);
  }

  /**
   * Logs a rejection: transport, target and reason (and a refused caller's app id, not a secret),
   * never the token. Past `rejectionLogLimit` in a window, only counted, for one summary line.
   */
  protected logRejection(context: ExecutionContext, adapter: TransportAdapter, reason: RejectionReason, caller?: DaprCallerIdentity): void {
    const level = this.options.logRejections;
    if (level === false || !this.rejectionLog!.admit(adapter.transport, reason)) return;
    // A refused token the verifier has not classified yet (see the constructor): a line says which.
    if (reason === 'mismatch') reason = this.verifier.classify(this.extractToken(context, adapter));
    const verdict = this.reportOnly === null ? 'Rejected' : 'Would reject (report-only mode: let through)';
    // Which rule a malformed value broke, read again here, off the hot path (never the value itself).
    const detail =
      reason === 'malformed'
        ? malformedTokenDetail(this.extractToken(context, adapter), this.options.maxTokenLength, this.options.tokenHeader)
        : reason === 'caller-malformed'
          ? malformedCallerDetail(adapter.readCaller(context))
          : undefined;
    this.logger[level](
      `${verdict} ${adapter.transport} ${adapter.describeTarget(context)}: ${describeReason(reason, caller, detail, this.options.tokenHeader)}`,
    );
  }

  private adapterFor(context: ExecutionContext): TransportAdapter {
    // One lookup where the type decides (HTTP): asking adapters in turn made that call site see
    // every adapter class of the app, which cost each HTTP request ~10 ns (bench/history.md).
    const byType = this.adapterOfType.get(context.getType());
    if (byType !== undefined) return byType;
    // The fallback adapter is last and supports everything, so this always returns one.
    for (const adapter of this.adapters) if (adapter.supports(context)) return adapter;
    return this.adapters[this.adapters.length - 1];
  }

  /**
   * How the handler is covered (see {@link HandlerAccessIndex}): the method's decorators win over
   * the class's, and naming the guard counts as `@DaprProtected()`. Class-level rules are read from
   * the class Nest runs class-level guards from, which is not always `context.getClass()`.
   */
  protected handlerAccess(context: ExecutionContext): HandlerAccess {
    return this.accessIndex!.read(context.getHandler(), context.getClass());
  }
}

/**
 * @internal The adapters that declare the one context type they support, as long as none ahead of them
 * decides otherwise (asked in order, an adapter without `contextType` may claim any type).
 */
export function adaptersByContextType(adapters: readonly TransportAdapter[]): ReadonlyMap<string, TransportAdapter> {
  const byType = new Map<string, TransportAdapter>();
  for (const adapter of adapters) {
    if (adapter.contextType === undefined) break;
    if (!byType.has(adapter.contextType)) byType.set(adapter.contextType, adapter);
  }
  return byType;
}

/** Throws a refusal that is an exception, returns any other. */
function refused(refusal: Error | boolean | Promise<boolean>): boolean | Promise<boolean> {
  if (refusal instanceof Error) throw refusal;
  return refusal;
}

/**
 * Why a request was refused: a token check, a JWT check (`jwt:<failure>`), the caller check, or a
 * caller rule held shut because daprd's API is not proven to require `DAPR_API_TOKEN`
 * (`sidecar-api-unverified`). Logged, never sent to the caller.
 */
export type RejectionReason = TokenRejection | `jwt:${JwtFailure}` | CallerRejection | SidecarApiRejection;

function describeReason(reason: RejectionReason, caller?: DaprCallerIdentity, detail?: string, tokenHeader = 'dapr-api-token'): string {
  if (reason.startsWith('jwt:')) return `JWT rejected: ${JWT_FAILURE_TEXT[reason.slice(4) as JwtFailure]}`;
  switch (reason as TokenRejection | CallerRejection | SidecarApiRejection) {
    case 'caller-missing':
      return 'no caller identity (dapr-caller-app-id): not a service invocation from another app (pub/sub, bindings and self-invocation carry none)';
    case 'caller-malformed':
      return `caller identity refused: ${detail ?? 'not exactly one valid app id'}`;
    case 'caller-not-allowed':
      return `caller app "${caller?.appId}"${caller?.namespace ? ` (namespace "${caller.namespace}")` : ''} is not in @DaprCallers`;
    case 'sidecar-api-unverified':
      return (
        `caller app "${caller?.appId}"${caller?.namespace ? ` (namespace "${caller.namespace}")` : ''} is listed, but caller rules refuse every call ` +
        "until the sidecar check has proven that daprd's API requires DAPR_API_TOKEN (without it, any client of that API can send any caller id; " +
        "DaprAuthStatus.sidecarApi and the check's own log line say what it found). Fix: run daprd with DAPR_API_TOKEN and give the app the same " +
        "value (Kubernetes: the pod annotation dapr.io/api-token-secret, and the app container's DAPR_API_TOKEN from that Secret's key `token`; " +
        'self-hosted: DAPR_API_TOKEN=<token> dapr run ...)'
      );
    case 'missing':
      return `missing token (no ${tokenHeader} header or metadata)`;
    case 'malformed':
      return `malformed token: ${detail ?? 'several values, too long, or characters outside visible ASCII'}`;
    case 'mismatch':
      return 'token mismatch (not an accepted token)';
  }
}
