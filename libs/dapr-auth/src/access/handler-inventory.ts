import { RequestMethod, type Type } from '@nestjs/common';
import type { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { HostModuleLike } from './message-handler-guard.js';
import {
  DAPR_TOKENLESS_GRPC_METHODS,
  NEST_METHOD_METADATA,
  NEST_PATH_METADATA,
  NEST_PATTERN_HANDLER_METADATA,
  NEST_PATTERN_METADATA,
} from '../dapr-auth.constants.js';

/** `GATEWAY_METADATA`, `MESSAGE_MAPPING_METADATA` and `MESSAGE_METADATA` of `@nestjs/websockets` (an optional peer: not imported). */
const WS_GATEWAY_METADATA = 'websockets:is_gateway';
const WS_MESSAGE_MAPPING_METADATA = 'websockets:message_mapping';
const WS_MESSAGE_METADATA = 'message';

/** What `@nestjs/graphql` (an optional peer: not imported) records on resolvers (graphql.constants). */
const GQL_RESOLVER_TYPE_METADATA = 'graphql:resolver_type';
const GQL_RESOLVER_NAME_METADATA = 'graphql:resolver_name';
const GQL_RESOLVER_PROPERTY_METADATA = 'graphql:resolve_property';
const GQL_RESOLVER_REFERENCE_METADATA = 'graphql:resolve_reference';
const GQL_ROOT_TYPES: ReadonlySet<string> = new Set(['Query', 'Mutation', 'Subscription']);

/** `GrpcMethodStreamingType.PT_STREAMING` of `@nestjs/microservices`: a `@GrpcStreamCall` handler. */
const GRPC_STREAM_CALL = 'pt_stream';

/** One request handler of the app, as start-up sees it (from metadata: no request has run yet). */
export interface HandlerEntry {
  readonly controller: Type;
  /** The method as decorators saw it (the prototype's), which is what Nest registers and reflects on. */
  readonly handler: object;
  readonly kind: 'http' | 'rpc' | 'ws' | 'graphql';
  /** The modules of this app that host the controller (Nest resolves a handler's guards in its host module). */
  readonly hosts: readonly HostModuleLike[];
  /** `GET /dapr/subscribe`, `AppCallback/OnInvoke`, `{"cmd":"sum"}`... for start-up messages. */
  readonly target: string;
  /** HTTP only: the method and the full route path (controller path + method path, no global prefix). */
  readonly http?: { readonly method: string; readonly path: string };
  /** RPC only: gRPC `{ service, rpc }` of each pattern (empty for other transports). */
  readonly grpc?: ReadonlyArray<{ readonly service: string; readonly rpc: string; readonly streaming?: string }>;
  /**
   * GraphQL only: the type and field a resolver resolves. `fieldResolver`: what Nest treats as a
   * property resolver, running guards on it only with the GraphQL module's `fieldResolverEnhancers:
   * ['guards']`: every resolver of a type not named `Query`, `Mutation` or `Subscription` (as Nest
   * decides, by name). `reference`: a federation `@ResolveReference()`, reached through `_entities`.
   */
  readonly graphql?: { readonly type: string; readonly field: string; readonly fieldResolver: boolean; readonly reference: boolean };
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

/** The classes of `wrappers` with every module of the app that hosts each (a class can be in several). */
function byClass(wrappers: ReturnType<DiscoveryService['getControllers']>, keep: (metatype: Type) => boolean): Map<Type, HostModuleLike[]> {
  const hostsOf = new Map<Type, HostModuleLike[]>();
  for (const wrapper of wrappers) {
    const metatype = wrapper.metatype as Type | undefined;
    if (typeof metatype !== 'function' || !keep(metatype)) continue;
    const hosts = hostsOf.get(metatype) ?? [];
    if (wrapper.host) hosts.push(wrapper.host as unknown as HostModuleLike);
    hostsOf.set(metatype, hosts);
  }
  return hostsOf;
}

/** The `@SubscribeMessage()` handlers of the app's WebSocket gateways (providers marked by `@WebSocketGateway()`). */
function listGatewayHandlers(discovery: DiscoveryService, scanner: MetadataScanner): HandlerEntry[] {
  const entries: HandlerEntry[] = [];
  for (const [gateway, hosts] of byClass(discovery.getProviders(), (metatype) => Reflect.getMetadata(WS_GATEWAY_METADATA, metatype) === true)) {
    const prototype = gateway.prototype as Record<string, object>;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      if (Reflect.getMetadata(WS_MESSAGE_MAPPING_METADATA, handler) !== true) continue;
      const message = String(Reflect.getMetadata(WS_MESSAGE_METADATA, handler));
      entries.push({ controller: gateway, handler, hosts, kind: 'ws', target: `WebSocket message "${message}" (${gateway.name}.${name})` });
    }
  }
  return entries;
}

/** The resolver type a class or method names (`@Resolver(() => Order)` records the type's name, or a function). */
function resolverTypeName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'function') return (value as { name?: string }).name;
  return undefined;
}

/**
 * The resolvers of the app's `@Resolver()` providers, chosen as `@nestjs/graphql` chooses them
 * (its `extractMetadata`): a method with a resolver type of its own or of its class, that is a
 * root field (`Query`, `Mutation`, `Subscription`), a `@ResolveField()` or a reference resolver.
 */
function listResolvers(discovery: DiscoveryService, scanner: MetadataScanner): HandlerEntry[] {
  const entries: HandlerEntry[] = [];
  // A factory provider's metatype is its function, which may have no prototype.
  const isResolverClass = (metatype: Type) => {
    const prototype = metatype.prototype as Record<string, object> | undefined;
    if (typeof prototype !== 'object') return false;
    if (Reflect.getMetadata(GQL_RESOLVER_TYPE_METADATA, metatype) !== undefined) return true;
    return scanner.getAllMethodNames(prototype).some((name) => Reflect.getMetadata(GQL_RESOLVER_TYPE_METADATA, prototype[name]) !== undefined);
  };
  for (const [resolver, hosts] of byClass(discovery.getProviders(), isResolverClass)) {
    const prototype = resolver.prototype as Record<string, object>;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      const declared: unknown = Reflect.getMetadata(GQL_RESOLVER_TYPE_METADATA, handler) ?? Reflect.getMetadata(GQL_RESOLVER_TYPE_METADATA, resolver);
      const type = resolverTypeName(declared);
      if (type === undefined) continue;
      const property = Reflect.getMetadata(GQL_RESOLVER_PROPERTY_METADATA, handler) === true;
      const reference = Reflect.getMetadata(GQL_RESOLVER_REFERENCE_METADATA, handler) === true;
      const root = GQL_ROOT_TYPES.has(type);
      if (!property && !reference && !root) continue;
      const field = reference ? '__resolveReference' : String(Reflect.getMetadata(GQL_RESOLVER_NAME_METADATA, handler) ?? name);
      entries.push({
        controller: resolver,
        handler,
        hosts,
        kind: 'graphql',
        target: `${root ? 'GraphQL' : 'GraphQL field'} ${type}.${field} (${resolver.name}.${name})`,
        // Nest's rule (ResolversExplorerService): a property resolver is any resolver of a type not named Query, Mutation or Subscription.
        graphql: { type, field, fieldResolver: !root, reference },
      });
    }
  }
  return entries;
}

/**
 * Every HTTP route, every message / gRPC handler of the app's controllers, every WebSocket
 * gateway message handler, and every GraphQL resolver. Start-up only: it walks the metadata of every class once.
 */
export function listHandlers(discovery: DiscoveryService, scanner: MetadataScanner): HandlerEntry[] {
  const entries: HandlerEntry[] = [];
  for (const [controller, hosts] of byClass(discovery.getControllers(), () => true)) {
    const prototype = controller.prototype as Record<string, object>;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      const requestMethod = Reflect.getMetadata(NEST_METHOD_METADATA, handler) as RequestMethod | undefined;
      if (requestMethod !== undefined && Reflect.getMetadata(NEST_PATH_METADATA, handler) !== undefined) {
        const method = RequestMethod[requestMethod] ?? String(requestMethod);
        for (const controllerPath of paths(Reflect.getMetadata(NEST_PATH_METADATA, controller))) {
          for (const methodPath of paths(Reflect.getMetadata(NEST_PATH_METADATA, handler))) {
            const path = joinPath(controllerPath, methodPath);
            entries.push({ controller, handler, hosts, kind: 'http', target: `${method} ${path}`, http: { method, path } });
          }
        }
        // No `continue`: the same method can be a message or gRPC handler as well, and is listed as both.
      }
      if (Reflect.getMetadata(NEST_PATTERN_HANDLER_METADATA, handler) === undefined) continue;
      const patterns = (Reflect.getMetadata(NEST_PATTERN_METADATA, handler) ?? []) as unknown[];
      const grpc = patterns.filter(isGrpcPattern);
      const target = grpc.length > 0 ? grpc.map(({ service, rpc }) => `${service}/${rpc}`).join(', ') : patterns.map((p) => JSON.stringify(p)).join(', ');
      entries.push({ controller, handler, hosts, kind: 'rpc', target: `${target} (${controller.name}.${name})`, grpc });
    }
  }
  return [...entries, ...listGatewayHandlers(discovery, scanner), ...listResolvers(discovery, scanner)];
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
