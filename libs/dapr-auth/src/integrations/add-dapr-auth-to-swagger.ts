import type { INestApplicationContext } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { DAPR_AUTH_GLOBAL_GUARD, DAPR_AUTH_RESOLVED_OPTIONS, DAPR_HANDLER_ACCESS_INDEX } from '../dapr-auth.constants.js';
import type { ResolvedDaprAuthOptions } from '../options/dapr-auth.options.js';
import type { HandlerAccessIndex } from '../access/handler-access.js';
import { listHandlers } from '../access/handler-inventory.js';

/** The name of the security scheme added to the document. */
export const DAPR_SWAGGER_SECURITY_SCHEME = 'dapr-api-token';

/** The parts of an OpenAPI document (from `@nestjs/swagger`'s `SwaggerModule.createDocument`) this reads and writes. */
export interface OpenApiDocumentLike {
  paths: { [path: string]: object };
  components?: { securitySchemes?: Record<string, unknown> };
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'search']);

/** `/orders/:id` (Nest) -> `/orders/{id}` (OpenAPI). */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Marks the operations DaprAuthGuard protects in an OpenAPI document made by `@nestjs/swagger`,
 * so that nobody repeats a decorator: adds the `apiKey` security scheme for header
 * `dapr-api-token`, and a security requirement to every protected operation; public ones
 * (`@DaprPublic()`, daprd's health probe) get none. Call it after `SwaggerModule.createDocument()`.
 * `@nestjs/swagger` is not imported here: it stays an optional peer.
 *
 * Operations are matched to handlers by `operationId` (`Controller_method`, swagger's default),
 * else by HTTP method and path (the document's path may carry a global prefix or a version).
 *
 * @returns the same document, changed in place.
 */
export function addDaprAuthToSwagger<T extends OpenApiDocumentLike>(document: T, app: INestApplicationContext): T {
  const options = app.get<ResolvedDaprAuthOptions>(DAPR_AUTH_RESOLVED_OPTIONS, { strict: false });
  const isGlobal = app.get<boolean>(DAPR_AUTH_GLOBAL_GUARD, { strict: false });
  const handlers = listHandlers(app.get(DiscoveryService, { strict: false }), app.get(MetadataScanner, { strict: false })).filter((entry) => entry.http);
  const accessOf = app.get<HandlerAccessIndex>(DAPR_HANDLER_ACCESS_INDEX, { strict: false }).register(handlers);
  const protectedByOperationId = new Map<string, boolean>();
  const protectedByRoute: Array<{ method: string; path: string; protected: boolean }> = [];
  for (const entry of handlers) {
    const { access, routeGuarded, tokenless } = accessOf.get(entry)!;
    const method = entry.http!.method.toLowerCase();
    // Start-up decided which handler daprd's probe reaches, from the full paths Nest serves.
    const healthProbe = tokenless && (method === 'get' || method === 'head');
    // @DaprOrAppGuard(): the app's own guard's scheme applies as well, so the Dapr token is not documented as required.
    const isProtected = access !== 'public' && access !== 'dapr-or-app-guard' && !healthProbe && (routeGuarded || isGlobal || access === 'protected');
    const methodName = (entry.handler as { name?: string }).name;
    if (methodName) protectedByOperationId.set(`${entry.controller.name}_${methodName}`, isProtected);
    protectedByRoute.push({ method, path: openApiPath(entry.http!.path), protected: isProtected });
  }

  document.components ??= {};
  document.components.securitySchemes ??= {};
  document.components.securitySchemes[DAPR_SWAGGER_SECURITY_SCHEME] = {
    type: 'apiKey',
    in: 'header',
    name: options.tokenHeader,
    description: "The Dapr sidecar's app API token (APP_API_TOKEN). daprd sends it; other callers are refused.",
  };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, unknown>)) {
      if (!HTTP_METHODS.has(method) || typeof operation !== 'object' || operation === null) continue;
      const op = operation as { operationId?: string; security?: Array<Record<string, string[]>> };
      const byId = op.operationId === undefined ? undefined : protectedByOperationId.get(op.operationId);
      const byRoute = protectedByRoute.find(
        (route) => route.method === method && (path === route.path || path.endsWith(route.path === '/' ? '' : route.path)),
      )?.protected;
      const isProtected = byId ?? byRoute;
      if (isProtected === undefined) continue;
      const others = (op.security ?? []).filter((requirement) => !(DAPR_SWAGGER_SECURITY_SCHEME in requirement));
      op.security = isProtected ? [...others, { [DAPR_SWAGGER_SECURITY_SCHEME]: [] }] : others.length > 0 ? others : undefined;
      if (op.security === undefined) delete op.security;
    }
  }
  return document;
}
