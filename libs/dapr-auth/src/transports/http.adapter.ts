import { type ExecutionContext, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import {
  DAPR_API_TOKEN_HEADER,
  DAPR_CALLER_APP_ID_HEADER,
  DAPR_CALLER_NAMESPACE_HEADER,
  FORBIDDEN_MESSAGE,
  REJECTION_MESSAGE,
} from '../dapr-auth.constants.js';
import type { PresentedCaller, PresentedToken, RejectionKind } from '../pipeline.types.js';
import { rejectionMaker } from './stackless.js';
import type { TransportAdapter } from './transport-adapter.js';

/** The parts of an Express or Fastify request the adapter reads. */
interface HttpRequestLike {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers?: Record<string, string | string[] | undefined>;
  raw?: { url?: string };
  route?: { path?: string };
  routeOptions?: { url?: string };
}

/** The route pattern that matched (Express `route.path`, Fastify `routeOptions.url`). */
function routePattern(request: HttpRequestLike): string | undefined {
  return request.route?.path ?? request.routeOptions?.url;
}

/**
 * HTTP on Express and Fastify: header `dapr-api-token`, rejection `401 Unauthorized`.
 * The request is read with `getArgByIndex(0)`: `switchToHttp()` builds a new object per call.
 */
export class HttpTransportAdapter implements TransportAdapter {
  readonly transport = 'HTTP';
  readonly contextType = 'http';

  /** @param tokenHeader the header of the token (option `tokenHeader`), lower case as Node delivers header names. */
  constructor(private readonly tokenHeader: string = DAPR_API_TOKEN_HEADER) {}

  supports(context: ExecutionContext): boolean {
    return context.getType() === 'http';
  }

  /**
   * daprd's health probe is a GET. Which handlers serve it was decided at start-up from the paths
   * Nest serves (tokenless-handlers.ts); here only the method is read, never the URL.
   */
  isTokenlessDaprCall(context: ExecutionContext): boolean {
    const method = context.getArgByIndex<HttpRequestLike>(0).method;
    return method === 'GET' || method === 'HEAD';
  }

  extractToken(context: ExecutionContext): PresentedToken {
    // Node joins repeated headers into one "a, b" string; the format check rejects that.
    return context.getArgByIndex<HttpRequestLike>(0).headers?.[this.tokenHeader];
  }

  readCaller(context: ExecutionContext): PresentedCaller {
    const headers = context.getArgByIndex<HttpRequestLike>(0).headers;
    return { appId: headers?.[DAPR_CALLER_APP_ID_HEADER], namespace: headers?.[DAPR_CALLER_NAMESPACE_HEADER], namespaceTrusted: true };
  }

  describeTarget(context: ExecutionContext): string {
    const request = context.getArgByIndex<HttpRequestLike>(0);
    // The route pattern, never the URL: a URL can carry anything, a token included.
    return `${request.method ?? '?'} ${routePattern(request) ?? '(unmatched route)'}`;
  }

  // No argument: Nest's standard bodies {"message":"Unauthorized","statusCode":401} (= REJECTION_MESSAGE)
  // and {"message":"Forbidden","statusCode":403} (= FORBIDDEN_MESSAGE).
  // The literals are checked against the exception's own fields when the maker is built (stackless.ts).
  private readonly unauthorized = rejectionMaker(
    () => new UnauthorizedException(),
    (rejection) => {
      rejection.response = { message: REJECTION_MESSAGE, statusCode: 401 };
      rejection.options = {};
    },
  );
  private readonly forbidden = rejectionMaker(
    () => new ForbiddenException(),
    (rejection) => {
      rejection.response = { message: FORBIDDEN_MESSAGE, statusCode: 403 };
      rejection.options = {};
    },
  );

  reject(_context: ExecutionContext, kind: RejectionKind): Error {
    return kind === 'forbidden' ? this.forbidden() : this.unauthorized();
  }
}
