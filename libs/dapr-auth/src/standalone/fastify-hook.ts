import { createDaprTokenCheck, type DaprRequestLike, type DaprTokenCheck, type DaprTokenCheckOptions } from './dapr-token-check.js';

type Hook = (
  request: DaprRequestLike,
  reply: { code(statusCode: number): unknown; header(key: string, value: string): unknown; send(payload: string): unknown },
  done: () => void,
) => void;
/** A Fastify `onRequest` hook (typed here: Fastify is not a dependency), and the check it runs. */
export type DaprAuthFastifyHook = Hook & { readonly check: DaprTokenCheck };

/**
 * The check as a Fastify `onRequest` hook (`app.addHook('onRequest', hook)` on the root instance),
 * before the body is read. Refused: `401` with the guard's body. From options, a check of its own
 * (`.check.close()` it).
 */
export function daprAuthFastifyHook(optionsOrCheck?: DaprTokenCheckOptions | DaprTokenCheck): DaprAuthFastifyHook {
  const check =
    typeof (optionsOrCheck as DaprTokenCheck | undefined)?.verifyRequest === 'function'
      ? (optionsOrCheck as DaprTokenCheck)
      : createDaprTokenCheck(optionsOrCheck as DaprTokenCheckOptions | undefined);
  // Callback style: Fastify goes on at done(), and stops at a reply sent instead.
  const hook: Hook = (request, reply, done) => {
    const verdict = check.verifyRequest(request);
    if (verdict.ok) return done();
    reply.code(verdict.status);
    reply.header('content-type', verdict.contentType);
    reply.send(verdict.body);
  };
  return Object.assign(hook, { check });
}
