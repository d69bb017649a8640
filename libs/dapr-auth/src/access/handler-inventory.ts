import { RequestMethod, type Type } from '@nestjs/common';
import type { DiscoveryService, MetadataScanner } from '@nestjs/core';
import {
  DAPR_TOKENLESS_GRPC_METHODS,
  NEST_METHOD_METADATA,
  NEST_PATH_METADATA,
  NEST_PATTERN_HANDLER_METADATA,
  NEST_PATTERN_METADATA,
} from '../dapr-auth.constants.js';

/** `GrpcMethodStreamingType.PT_STREAMING` of `@nestjs/microservices`: a `@GrpcStreamCall` handler. */
const GRPC_STREAM_CALL = 'pt_stream';

/** One request handler of the app, as start-up sees it (from metadata: no request has run yet). */
export interface HandlerEntry {
  readonly controller: Type;
  /** The method as decorators saw it (the prototype's), which is what Nest registers and reflects on. */
  readonly handler: object;
  readonly kind: 'http' | 'rpc';
  /** `GET /dapr/subscribe`, `AppCallback/OnInvoke`, `{"cmd":"sum"}`... for start-up messages. */
  readonly target: string;
  /** HTTP only: the method and the full route path (controller path + method path, no global prefix). */
  readonly http?: { readonly method: string; readonly path: string };
  /** RPC only: gRPC `{ service, rpc }` of each pattern (empty for other transports). */
  readonly grpc?: ReadonlyArray<{ readonly service: string; readonly rpc: string; readonly streaming?: string }>;
}

function paths(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value ?? '/'];
  return list.map((path) => String(path));
}

function joinPath(controllerPath: string, methodPath: string): string {
  const joined = `/${[controllerPath, methodPath]
    .map((part) => part.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;
  return joined;
}

function isGrpcPattern(pattern: unknown): pattern is { service: string; rpc: string; streaming?: string } {
  return typeof pattern === 'object' && pattern !== null && 'service' in pattern && 'rpc' in pattern;
}

/**
 * Every HTTP route and every message / gRPC handler of the app's controllers. Start-up only: it
 * walks the metadata of every controller class once.
 */
export function listHandlers(discovery: DiscoveryService, scanner: MetadataScanner): HandlerEntry[] {
  const entries: HandlerEntry[] = [];
  const seen = new Set<Type>();
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as Type | undefined;
    if (!controller || seen.has(controller)) continue;
    seen.add(controller);
    const prototype = controller.prototype as Record<string, object>;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      const requestMethod = Reflect.getMetadata(NEST_METHOD_METADATA, handler) as RequestMethod | undefined;
      if (requestMethod !== undefined && Reflect.getMetadata(NEST_PATH_METADATA, handler) !== undefined) {
        const method = RequestMethod[requestMethod] ?? String(requestMethod);
        for (const controllerPath of paths(Reflect.getMetadata(NEST_PATH_METADATA, controller))) {
          for (const methodPath of paths(Reflect.getMetadata(NEST_PATH_METADATA, handler))) {
            const path = joinPath(controllerPath, methodPath);
            entries.push({ controller, handler, kind: 'http', target: `${method} ${path}`, http: { method, path } });
          }
        }
        continue;
      }
      if (Reflect.getMetadata(NEST_PATTERN_HANDLER_METADATA, handler) === undefined) continue;
      const patterns = (Reflect.getMetadata(NEST_PATTERN_METADATA, handler) ?? []) as unknown[];
      const grpc = patterns.filter(isGrpcPattern);
      const target = grpc.length > 0 ? grpc.map(({ service, rpc }) => `${service}/${rpc}`).join(', ') : patterns.map((p) => JSON.stringify(p)).join(', ');
      entries.push({ controller, handler, kind: 'rpc', target: `${target} (${controller.name}.${name})`, grpc });
    }
  }
  return entries;
}

/** Whether every pattern of the handler is one of the gRPC calls daprd makes without a token (the pattern may lack the package). */
export function isTokenlessDaprHandler(entry: HandlerEntry): boolean {
  if (!entry.grpc || entry.grpc.length === 0) return false;
  return entry.grpc.every(({ service, rpc }) =>
    [...DAPR_TOKENLESS_GRPC_METHODS].some((path) => path === `/${service}/${rpc}` || path.endsWith(`.${service}/${rpc}`)),
  );
}

/** Whether the handler is a `@GrpcStreamCall` (its rejection needs the call itself; see the stream-call adapter). */
export function isGrpcStreamCall(entry: HandlerEntry): boolean {
  return entry.grpc?.some((pattern) => pattern.streaming === GRPC_STREAM_CALL) ?? false;
}
