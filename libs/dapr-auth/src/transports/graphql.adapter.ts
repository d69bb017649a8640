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

/** The GraphQL context object of `@nestjs/graphql` (Apollo and Mercurius drivers alike): the HTTP request is `req`. */
interface GraphqlContextLike {
  req?: { headers?: Record<string, string | string[] | undefined> };
}

/** What a resolver's `info` says of the field (graphql-js `GraphQLResolveInfo`). */
interface ResolveInfoLike {
  fieldName?: string;
  parentType?: { name?: string };
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
 * GraphQL resolvers (`@nestjs/graphql`, Apollo or Mercurius driver, on Express or Fastify). daprd
 * invokes method `graphql` as a plain HTTP POST, so the token and caller are the request's headers,
 * which both drivers put in the GraphQL context as `req` (where an app's own `context` function
 * keeps it). A subscription over WebSocket has no such request: it is refused (no token).
 *
 * Rejection: Nest's `UnauthorizedException` / `ForbiddenException` (what Nest apps' own guards
 * throw in resolvers), carrying `extensions.code` `UNAUTHENTICATED` / `FORBIDDEN`: the Apollo
 * driver maps the status to the same codes, Mercurius copies the extensions. The drivers answer
 * HTTP 200 with `{ data, errors }` (GraphQL over HTTP: the refused fields are `null`).
 */
export class GraphqlTransportAdapter implements TransportAdapter {
  readonly transport = 'GraphQL';

  /** @param tokenHeader the header of the token (option `tokenHeader`), lower case as Node delivers header names. */
  constructor(private readonly tokenHeader: string = DAPR_API_TOKEN_HEADER) {}

  supports(context: ExecutionContext): boolean {
    return context.getType<string>() === 'graphql';
  }

  /** daprd never calls GraphQL without the token. */
  isTokenlessDaprCall(): boolean {
    return false;
  }

  extractToken(context: ExecutionContext): PresentedToken {
    return graphqlContextOf(context)?.req?.headers?.[this.tokenHeader];
  }

  readCaller(context: ExecutionContext): PresentedCaller {
    const headers = graphqlContextOf(context)?.req?.headers;
    // The same HTTP request daprd delivered as for a controller: the namespace is trusted as there.
    return { appId: headers?.[DAPR_CALLER_APP_ID_HEADER], namespace: headers?.[DAPR_CALLER_NAMESPACE_HEADER], namespaceTrusted: true };
  }

  describeTarget(context: ExecutionContext): string {
    // The schema's type and field names, never what the client wrote (aliases, arguments).
    const args = context.getArgs();
    const info = (args.length === 3 ? args[2] : args[3]) as ResolveInfoLike | undefined;
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
