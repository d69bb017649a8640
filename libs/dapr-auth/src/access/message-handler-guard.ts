import type { CanActivate, ExecutionContext } from '@nestjs/common';

/**
 * The guards of the apps alive in this process that `global: true` made responsible for each
 * message handler, newest last. The handler functions (and their metadata) are shared by every
 * app built from the same classes, while each app has its own guard: so the metadata holds one
 * process-wide {@link MESSAGE_HANDLER_GUARD}, and the apps register and unregister here.
 */
const liveGuards = new WeakMap<object, CanActivate[]>();

/**
 * What `global: true` puts on message and gRPC handlers: it hands each call to the guard of the
 * newest live app that took the handler. Never removed from the metadata (another app may read it
 * at any moment); with no live app responsible it lets the call through, as the handler's own
 * decorators (none) say.
 */
class MessageHandlerGuard implements CanActivate {
  canActivate(context: ExecutionContext): ReturnType<CanActivate['canActivate']> {
    const guards = liveGuards.get(context.getHandler());
    return guards === undefined || guards.length === 0 ? true : guards[guards.length - 1].canActivate(context);
  }
}

export const MESSAGE_HANDLER_GUARD: CanActivate = new MessageHandlerGuard();

/** Makes `guard` (one app's) responsible for `handler`, until the returned undo runs (at that app's shutdown). */
export function takeMessageHandler(handler: object, guard: CanActivate): () => void {
  liveGuards.set(handler, [...(liveGuards.get(handler) ?? []).filter((item) => item !== guard), guard]);
  return () =>
    liveGuards.set(
      handler,
      (liveGuards.get(handler) ?? []).filter((item) => item !== guard),
    );
}
