import { type ExecutionContext, ForbiddenException, type Logger, UnauthorizedException } from '@nestjs/common';
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

type Headers = Record<string, string | string[] | undefined>;

/** The GraphQL context object of `@nestjs/graphql` (Apollo and Mercurius drivers alike): the HTTP request is `req`. */
interface GraphqlContextLike {
  /** The HTTP request (Express or Fastify): where the drivers put it, unless the app's `context` already has a `req`. */
  req?: { headers?: Headers; res?: { writableEnded?: boolean } };
  /** Mercurius: the Fastify reply of the request being served, assigned onto the context for every request. */
  reply?: { request?: unknown };
}

/** What a resolver's `info` says of the field (graphql-js `GraphQLResolveInfo`). */
interface ResolveInfoLike {
  fieldName?: string;
  parentType?: { name?: string };
  /** One object per execution of an operation (graphql-js coerces the variables anew for each): where the execution's request is pinned. */
  variableValues?: Record<PropertyKey, unknown>;
}

function infoOf(context: ExecutionContext): ResolveInfoLike | undefined {
  const args = context.getArgs();
  const info: unknown = args.length === 3 ? args[2] : args[3];
  return typeof info === 'object' && info !== null ? info : undefined;
}

/**
 * The GraphQL context of a resolver call: a resolver gets `[root, args, context, info]`, a
 * federation reference resolver `[reference, context, info]` (as `@nestjs/graphql` reads them).
 */
export function graphqlContextOf(context: ExecutionContext): GraphqlContextLike | undefined {
  const args = context.getArgs();
  const value: unknown = args.length === 3 ? args[1] : args[2];
  return typeof value === 'object' && value !== null ? value : undefined;
}

/**
 * The headers of the request this call belongs to; `undefined` when the context holds none, or one
 * that is not this call's: a context function that returns one shared object gets `req` assigned
 * once, by the first request, and keeps it (both drivers leave an existing `req` alone). Mercurius
 * then assigns each request's `reply` onto the same object, so a `reply` of another request than
 * `req`'s gives it away; on Express, the first request's response has ended. A context function
 * that writes each request into one shared object (`shared.req = req`) keeps `req` and `reply` in
 * step, but then the same context object is seen with two requests: it is marked (under a symbol
 * of this module's) with the first request it held, and refused for good once it holds another.
 */
function headersOf(gqlContext: GraphqlContextLike | undefined, info: ResolveInfoLike | undefined): Headers | typeof NOT_THIS_CALL | undefined {
  const request = gqlContext?.req;
  if (request === undefined) return undefined;
  const pinned = info?.variableValues?.[PINNED_REQUEST];
  if (pinned !== undefined && pinned !== request) return NOT_THIS_CALL;
  const replyRequest = gqlContext!.reply?.request;
  if ((replyRequest !== undefined && replyRequest !== request) || request.res?.writableEnded === true) return NOT_THIS_CALL;
  const context = gqlContext as GraphqlContextLike & { [FIRST_REQUEST]?: object };
  const first = context[FIRST_REQUEST];
  if (first === undefined) {
    try {
      context[FIRST_REQUEST] = request;
    } catch {
      return NOT_THIS_CALL; // a frozen context cannot be told from a shared one
    }
  } else if (first !== request) {
    context[FIRST_REQUEST] = SHARED; // once shared, refused for good (even when the first request comes back)
    return NOT_THIS_CALL;
  }
  return request.headers;
}
const NOT_THIS_CALL = Symbol('not this call');
const PINNED_REQUEST = Symbol('nestjs-dapr-auth:graphql-execution-request');

/**
 * Pins, at the first guard call of an execution, the request its context holds then, on the
 * execution's own `variableValues`: a context function that writes each request into one shared
 * object swaps `req` (and Mercurius's `reply`) under an operation still running, when another
 * request comes in; a later field of that operation then sees the other request, not its own.
 */
function pinRequest(context: ExecutionContext): void {
  const variables = infoOf(context)?.variableValues;
  const request = graphqlContextOf(context)?.req;
  if (variables === undefined || request === undefined || variables[PINNED_REQUEST] !== undefined) return;
  try {
    variables[PINNED_REQUEST] = request;
  } catch {
    // frozen variables: nothing pinned; the other checks stand
  }
}
const FIRST_REQUEST = Symbol('nestjs-dapr-auth:graphql-context-request');
const SHARED = Object.freeze({});

/**
 * GraphQL resolvers (`@nestjs/graphql`, Apollo or Mercurius driver, on Express or Fastify). daprd
 * invokes method `graphql` as a plain HTTP POST, so the token and caller are the request's headers,
 * which both drivers put in the GraphQL context as `req` (where an app's own `context` function
 * keeps it). A subscription over WebSocket has no such request: it is refused (no token). Nor is a
 * request in a context shared by every request (a context function returning one object): refused,
 * with one error line that says so.
 *
 * Rejection: Nest's `UnauthorizedException` / `ForbiddenException` (what Nest apps' own guards
 * throw in resolvers), carrying `extensions.code` `UNAUTHENTICATED` / `FORBIDDEN`: the Apollo
 * driver maps the status to the same codes, Mercurius copies the extensions. The drivers answer
 * HTTP 200 with `{ data, errors }` (GraphQL over HTTP: the refused fields are `null`).
 */
export class GraphqlTransportAdapter implements TransportAdapter {
  readonly transport = 'GraphQL';

  private sharedContextExplained = false;

  /**
   * @param tokenHeader the header of the token (option `tokenHeader`), lower case as Node delivers header names.
   * @param logger where a shared GraphQL context is reported (once).
   */
  constructor(
    private readonly tokenHeader: string = DAPR_API_TOKEN_HEADER,
    private readonly logger?: Pick<Logger, 'error'>,
  ) {}

  /** This call's request headers, or `undefined` (then refused as having no token and no caller). */
  private headers(context: ExecutionContext): Headers | undefined {
    const headers = headersOf(graphqlContextOf(context), infoOf(context));
    if (headers !== NOT_THIS_CALL) return headers;
    if (!this.sharedContextExplained) {
      this.sharedContextExplained = true;
      this.logger?.error(
        "The GraphQL context holds another request than the one being served: the GraphQL module's `context` function returns one " +
          'object shared by every request, so the request the driver put in it is the first one. Every such call is refused (as having no ' +
          'token). Fix: return a new object per request, e.g. `context: () => ({ services })` (docs/graphql.md).',
      );
    }
    return undefined;
  }

  /**
   * Whether this is a resolver call; also pins the request of its execution (see pinRequest): the
   * one step every guard call reaches, `@DaprPublic()` fields included, and the first field of an
   * operation runs before any other request can swap a shared context's `req`.
   */
  supports(context: ExecutionContext): boolean {
    if (context.getType<string>() !== 'graphql') return false;
    pinRequest(context);
    return true;
  }

  /** daprd never calls GraphQL without the token. */
  isTokenlessDaprCall(): boolean {
    return false;
  }

  extractToken(context: ExecutionContext): PresentedToken {
    return this.headers(context)?.[this.tokenHeader];
  }

  readCaller(context: ExecutionContext): PresentedCaller {
    const headers = this.headers(context);
    // The same HTTP request daprd delivered as for a controller: the namespace is trusted as there.
    return { appId: headers?.[DAPR_CALLER_APP_ID_HEADER], namespace: headers?.[DAPR_CALLER_NAMESPACE_HEADER], namespaceTrusted: true };
  }

  describeTarget(context: ExecutionContext): string {
    // The schema's type and field names, never what the client wrote (aliases, arguments).
    const info = infoOf(context);
    const field = info?.parentType?.name && info.fieldName ? `${info.parentType.name}.${info.fieldName}` : '?';
    return `${field} (${context.getClass().name}.${context.getHandler().name})`;
  }

  private readonly unauthorized = rejectionMaker(
    () => Object.assign(new UnauthorizedException(), { extensions: { code: 'UNAUTHENTICATED' } }),
    (rejection) => {
      rejection.response = { message: REJECTION_MESSAGE, statusCode: 401 };
      rejection.options = {};
      rejection.extensions = { code: 'UNAUTHENTICATED' };
    },
  );
  private readonly forbidden = rejectionMaker(
    () => Object.assign(new ForbiddenException(), { extensions: { code: 'FORBIDDEN' } }),
    (rejection) => {
      rejection.response = { message: FORBIDDEN_MESSAGE, statusCode: 403 };
      rejection.options = {};
      rejection.extensions = { code: 'FORBIDDEN' };
    },
  );

  reject(_context: ExecutionContext, kind: RejectionKind): Error {
    return kind === 'forbidden' ? this.forbidden() : this.unauthorized();
  }
}
