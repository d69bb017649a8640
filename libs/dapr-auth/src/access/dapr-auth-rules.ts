import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { DAPR_AUTH_GLOBAL_GUARD, DAPR_AUTH_RESOLVED_OPTIONS, DAPR_CALL_VERIFIER, DAPR_HANDLER_ACCESS_INDEX } from '../dapr-auth.constants.js';
import type { ResolvedDaprAuthOptions } from '../options/dapr-auth.options.js';
import type { HandlerAccessIndex } from './handler-access.js';
import { wasVerifiedDaprCall } from './verified-dapr-call.js';

/**
 * Who decides a handler, as this module sees it (read by {@link DaprAuthRules.ruleOf}):
 * - `'dapr'`: the Dapr check alone: `@DaprProtected()`, `@UseGuards(DaprAuthGuard)`, or
 *   `global: true` with no decision of the handler's own. A DaprAuthGuard runs on it.
 * - `'public'`: `@DaprPublic()`: the Dapr check lets every request through; your own guard decides.
 * - `'dapr-or-app-guard'`: `@DaprOrAppGuard()`: a verified Dapr call, or else your own guard
 *   composed with {@link daprOr}.
 * - `undefined`: none of them and not `global`: the Dapr check does not run; your own guard decides.
 */
export type DaprAuthRule = 'public' | 'dapr' | 'dapr-or-app-guard';

/** What {@link DaprAuthRules} needs of the module's DaprAuthGuard: its check without the refusal. */
export interface DaprCallVerifier {
  verifyDaprCall(context: ExecutionContext): boolean | Promise<boolean>;
  isTokenlessDaprCall(context: ExecutionContext): boolean;
}

/**
 * This module's rules for the handler Nest is running, for an app's own guard (a global
 * `@nestjs/passport` JWT guard, say) that runs beside it: inject it (`DaprAuthModule` exports it)
 * and ask it. Every answer comes from the app's own module: the handler decisions start-up made
 * from the classes Nest reads guards from, and this app's options (docs/beside-user-auth.md).
 *
 * The usual way is not to call it yourself but to register your guard through {@link daprOr}, which
 * asks it for you.
 */
@Injectable()
export class DaprAuthRules {
  constructor(
    @Inject(DAPR_HANDLER_ACCESS_INDEX) private readonly index: HandlerAccessIndex,
    @Inject(DAPR_AUTH_GLOBAL_GUARD) private readonly isGlobal: boolean,
    @Inject(DAPR_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedDaprAuthOptions,
    @Inject(DAPR_CALL_VERIFIER) private readonly verifier: DaprCallVerifier,
  ) {}

  /** The rule of the handler `context` runs (see {@link DaprAuthRule}); one cached lookup. */
  ruleOf(context: ExecutionContext): DaprAuthRule | undefined {
    const access = this.index.read(context.getHandler(), context.getClass());
    if (access.access === 'public') return 'public';
    if (access.access === 'dapr-or-app-guard') return 'dapr-or-app-guard';
    if (access.access === 'protected' || access.routeGuarded || this.isGlobal) return 'dapr';
    return undefined;
  }

  /**
   * Whether your guard should step aside and leave this request to the Dapr check: the handler's
   * rule is `'dapr'` and that check enforces (not `mode: 'report'`, which lets refused calls
   * through, and not `allowUnconfigured` without a token, which checks nothing: then your guard
   * keeps deciding, so nothing opens). A DaprAuthGuard still runs on the handler and decides.
   * `false` for `@DaprPublic()` handlers: public for the Dapr check only, your guard decides them.
   */
  decidedByDapr(context: ExecutionContext): boolean {
    return this.options.mode !== 'report' && (this.options.tokenSource !== undefined || this.options.jwt !== undefined) && this.ruleOf(context) === 'dapr';
  }

  /**
   * Whether a DaprAuthGuard of this app has ACCEPTED the current request as a call from daprd (its
   * token verified, its caller rule passed), so far. `false` before the Dapr check has run (guard
   * order), for requests it let through without a token (`@DaprPublic()`, daprd's health probe) and
   * for refusals report-only mode let through.
   */
  isVerifiedDaprCall(context: ExecutionContext): boolean {
    return wasVerifiedDaprCall(context);
  }

  /**
   * Runs the Dapr check on the current request now, without refusing it: `true` (or a promise of
   * it, in JWT mode) when it is a verified Dapr call, else `false`, counted as `deferred` in the
   * metrics and never logged as a rejection. What a guard made by {@link daprOr} runs first on a
   * `@DaprOrAppGuard()` handler.
   */
  /**
   * Whether this request is one daprd makes WITHOUT a token on the handler start-up found it reaches
   * (its health probe, gRPC health check and discovery): the Dapr check lets it through, and your
   * guard must too, or daprd marks the app unhealthy. Decided per handler at start-up, never from the URL.
   */
  isTokenlessDaprCall(context: ExecutionContext): boolean {
    const verifier = this.verifier as Partial<DaprCallVerifier>;
    return typeof verifier.isTokenlessDaprCall === 'function' && verifier.isTokenlessDaprCall(context);
  }

  verifyDaprCall(context: ExecutionContext): boolean | Promise<boolean> {
    const verifier = this.verifier as Partial<DaprCallVerifier> & Partial<CanActivate>;
    if (typeof verifier.verifyDaprCall === 'function') return verifier.verifyDaprCall(context);
    // A test replaced DaprAuthGuard (overrideProvider) with a stand-in of its own: it decides, as it does everywhere else.
    return verifier.canActivate!(context) as boolean | Promise<boolean>;
  }
}
