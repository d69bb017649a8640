import { createDaprTokenCheck, type DaprRequestLike, type DaprTokenCheck, type DaprTokenCheckOptions } from './dapr-token-check.js';

type Middleware = (
  request: DaprRequestLike,
  response: { statusCode: number; setHeader(name: string, value: string | number): unknown; end(body: string): unknown },
  next: () => void,
) => void;
/** An Express (4, 5) / Connect middleware, and the check it runs. */
export type DaprAuthExpressMiddleware = Middleware & { readonly check: DaprTokenCheck };

/**
 * The check as Express middleware: install it first, before body parsers and routes (for
 * `DaprServer`, on its `serverHttp` app, before `new DaprServer`). Refused: `401` with the guard's
 * body, and nothing after it runs. From options, a check of its own (`.check.close()` it).
 */
export function daprAuthExpressMiddleware(optionsOrCheck?: DaprTokenCheckOptions | DaprTokenCheck): DaprAuthExpressMiddleware {
  const check =
    typeof (optionsOrCheck as DaprTokenCheck | undefined)?.verifyRequest === 'function'
      ? (optionsOrCheck as DaprTokenCheck)
      : createDaprTokenCheck(optionsOrCheck as DaprTokenCheckOptions | undefined);
  const middleware: Middleware = (request, response, next) => {
    const verdict = check.verifyRequest(request);
    if (verdict.ok) return next();
    response.statusCode = verdict.status;
    response.setHeader('content-type', verdict.contentType);
    response.setHeader('content-length', verdict.body.length);
    response.end(verdict.body);
  };
  return Object.assign(middleware, { check });
}
