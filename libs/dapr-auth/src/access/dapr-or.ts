import { type CanActivate, type ExecutionContext, Inject, Injectable, type Type } from '@nestjs/common';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import { DaprAuthRules } from './dapr-auth-rules.js';
import { DAPR_OR_GUARD_MARK } from './handler-access.js';

type GuardResult = boolean | Promise<boolean> | Observable<boolean>;

/**
 * Composes your own guard (a `@nestjs/passport` `AuthGuard('jwt')`, or any `CanActivate` class)
 * with this module's Dapr check, so that the two can run side by side, globally or per route:
 *
 * ```ts
 * providers: [{ provide: APP_GUARD, useClass: daprOr(JwtAuthGuard) }]   // instead of useClass: JwtAuthGuard
 * ```
 *
 * The class it returns extends `guard` (so Nest injects what `guard` needs, and its own
 * `handleRequest` and the like still apply) and decides by the handler's rule ({@link DaprAuthRules}):
 * - `'dapr'` (`@DaprProtected()`, `@UseGuards(DaprAuthGuard)`, `global: true`): steps aside; the
 *   DaprAuthGuard that runs on the handler decides alone (your guard would refuse daprd's calls).
 *   In report-only mode, or with nothing configured to verify, your guard decides too.
 * - `'dapr-or-app-guard'` (`@DaprOrAppGuard()`): a verified Dapr call is let through; any other
 *   request is your guard's to decide, and its refusal (its exception) is the answer.
 * - `'public'` (`@DaprPublic()`) or none: your guard alone.
 *
 * Nothing passes that neither check accepts. Start-up refuses a `@DaprOrAppGuard()` handler that no
 * guard made by `daprOr()` covers (docs/beside-user-auth.md).
 *
 * @param guard your guard's class; the result is a new `@Injectable()` class named `DaprOr(<name>)`.
 */
export function daprOr<T extends Type<CanActivate>>(guard: T): Type<CanActivate> {
  const Base = guard as Type<CanActivate>;
  @Injectable()
  class DaprOrGuard extends Base {
    /** Lets start-up tell where a composed guard runs (handler-access.ts). */
    static readonly [DAPR_OR_GUARD_MARK] = true;
    /** This app's rules, from DaprAuthModule (a global module): a property, so `guard`'s constructor keeps its own injections. */
    @Inject(DaprAuthRules) readonly daprAuthRules!: DaprAuthRules;

    override canActivate(context: ExecutionContext): GuardResult {
      const rules = this.daprAuthRules;
      const rule = rules.ruleOf(context);
      if (rule === 'dapr-or-app-guard') {
        const verified = rules.verifyDaprCall(context);
        if (verified === true) return true;
        if (verified === false) return super.canActivate(context);
        return verified.then((ok) => (ok ? true : settle(super.canActivate(context))));
      }
      if (rule === 'dapr' && rules.decidedByDapr(context)) return true;
      // daprd's health probe and token-less discovery calls: the Dapr check lets them through, so must your guard.
      if (rules.isTokenlessDaprCall(context)) return true;
      return super.canActivate(context);
    }
  }
  Object.defineProperty(DaprOrGuard, 'name', { value: `DaprOr(${guard.name || 'guard'})` });
  return DaprOrGuard;
}

/** A guard's answer as a promise (Nest does not take a promise of an Observable). */
function settle(result: GuardResult): Promise<boolean> {
  return isObservable(result) ? lastValueFrom(result) : Promise.resolve(result);
}
