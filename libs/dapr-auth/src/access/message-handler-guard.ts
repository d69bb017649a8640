import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';

/**
 * What `global: true` names in `@UseGuards` metadata of the message and gRPC handlers it takes: a
 * class, which Nest resolves per app, from the `injectables` of the module that hosts the
 * controller in THAT app's container (as it does for `@UseGuards(SomeGuard)`). The module
 * registers its own guard there (see {@link provideMessageHandlerGuard}), so each call is decided
 * by the guard of the app whose server received it, whatever other apps built from the same
 * classes are alive, closed, restarted or never started (the metadata itself is shared by them all).
 *
 * Nest builds this class itself only in an app that did not register a guard here: one without
 * `global: true` (or without the module), whose own configuration leaves such a handler to its
 * decorators (none), so it lets the call through, exactly as if the metadata were not there.
 */
@Injectable()
export class DaprAuthMessageHandlerGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

/**
 * What an app registers for {@link DaprAuthMessageHandlerGuard}, on every message and gRPC handler
 * of its controllers: with `global: true` it hands the handlers that have no decision of their own
 * to the app's guard; after a start-up refused while a microservice was already serving, it hands
 * it every call (the guard then refuses them all, public and token-less ones included).
 */
export class MessageHandlerGate implements CanActivate {
  private refusing = false;

  constructor(
    private readonly guard: CanActivate,
    private readonly taken: ReadonlySet<object>,
  ) {}

  /** From now on every call goes to the guard (which the module has made refuse everything). */
  refuseEveryCall(): void {
    this.refusing = true;
  }

  canActivate(context: ExecutionContext): ReturnType<CanActivate['canActivate']> {
    return this.refusing || this.taken.has(context.getHandler()) ? this.guard.canActivate(context) : true;
  }
}

/** The part of Nest's `Module` (from `ModulesContainer`) used here. */
export interface HostModuleLike {
  addInjectable(injectable: { provide: unknown; useValue: unknown }, enhancerSubtype: 'guard'): unknown;
  readonly injectables: ReadonlyMap<unknown, { readonly instance?: unknown }>;
}

/**
 * Makes `guard` what {@link DaprAuthMessageHandlerGuard} resolves to in `host`, a module of this
 * app that hosts a controller whose handlers `global: true` took. Replaces whatever the scanner put
 * there (it finds the class in metadata another app added, and would build the pass-through).
 *
 * @throws Error when Nest did not keep it (a Nest whose `Module` API changed): start-up must not
 * go on believing the handlers are guarded.
 */
export function provideMessageHandlerGuard(host: HostModuleLike, guard: CanActivate): void {
  host.addInjectable({ provide: DaprAuthMessageHandlerGuard, useValue: guard }, 'guard');
  if (host.injectables.get(DaprAuthMessageHandlerGuard)?.instance !== guard) {
    throw new Error(
      'DaprAuthModule: could not register the guard of `global: true` for message and gRPC handlers with this version of @nestjs/core. ' +
        'Use @DaprProtected() on those controllers instead, and report the Nest version.',
    );
  }
}
