import type { CanActivate, Logger } from '@nestjs/common';
import { DAPR_CALLED_HTTP_PATHS, NEST_EXCEPTION_FILTERS_METADATA, NEST_GUARDS_METADATA } from '../dapr-auth.constants.js';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import type { ResolvedDaprAuthOptions } from '../options/dapr-auth.options.js';
import type { HandlerAccess } from './handler-access.js';
import { DaprAuthMessageHandlerGuard, type HostModuleLike, MessageHandlerGate, provideMessageHandlerGuard } from './message-handler-guard.js';
import { type HandlerEntry, isGrpcStreamCall } from './handler-inventory.js';
import type { GraphqlFacts } from './graphql-options.js';
import { STREAM_CALL_REJECTION_FILTER } from '../transports/stream-call-rejection.js';

/** gRPC services of Dapr's whose methods daprd calls WITH the token (the token-less ones are exempt anyway). */
const DAPR_CALLBACK_SERVICES: ReadonlySet<string> = new Set(['AppCallback', 'AppCallbackAlpha']);

function appendMetadata(key: string, value: object, target: object): void {
  const list = (Reflect.getOwnMetadata(key, target) as unknown[] | undefined) ?? [];
  if (!list.includes(value)) Reflect.defineMetadata(key, [...list, value], target);
}

/**
 * Puts {@link DaprAuthMessageHandlerGuard} on every message and gRPC handler, and registers this
 * app's {@link MessageHandlerGate} for it in each module that hosts one: Nest resolves it there, in
 * the app's own container, so other apps built from the same classes never decide this app's calls
 * (message-handler-guard.ts). With `global: true` the gate hands the handlers that have no decision
 * of their own to the app's guard, as `@UseGuards` would: Nest applies `APP_GUARD` to a connected
 * microservice only with `inheritAppConfig: true`, and the global guard then leaves them to the
 * gate, so each call is checked once.
 */
export function guardMessageHandlers(
  handlers: readonly HandlerEntry[],
  access: ReadonlyMap<HandlerEntry, HandlerAccess>,
  guard: CanActivate,
  isGlobal: boolean,
): MessageHandlerGate {
  const taken = new Set<object>();
  const hosts = new Set<HostModuleLike>();
  for (const entry of handlers) {
    if (entry.kind !== 'rpc') continue;
    appendMetadata(NEST_GUARDS_METADATA, DaprAuthMessageHandlerGuard, entry.handler);
    for (const host of entry.hosts) hosts.add(host);
    const decided = access.get(entry)!;
    if (isGlobal && decided.access === undefined && !decided.routeGuarded) taken.add(entry.handler);
  }
  const gate = new MessageHandlerGate(guard, taken);
  for (const host of hosts) provideMessageHandlerGuard(host, gate);
  return gate;
}

/** Puts the (stateless, app-independent) stream-call rejection filter on every `@GrpcStreamCall` handler. */
export function addStreamCallRejectionFilter(handlers: readonly HandlerEntry[]): void {
  for (const entry of handlers) if (isGrpcStreamCall(entry)) appendMetadata(NEST_EXCEPTION_FILTERS_METADATA, STREAM_CALL_REJECTION_FILTER, entry.handler);
}

/** Whether daprd itself calls this handler, with the token (so `@DaprPublic()` on it opens what daprd protects). */
function isCalledByDaprd(entry: HandlerEntry): boolean {
  if (entry.http) return DAPR_CALLED_HTTP_PATHS.some((pattern) => pattern.test(entry.http!.path));
  return entry.grpc?.some(({ service }) => DAPR_CALLBACK_SERVICES.has(service.split('.').pop()!)) ?? false;
}

/** Deliveries daprd makes with the token but without any caller identity (measured: docs/caller-identity.md). */
function carriesNoCaller(entry: HandlerEntry): boolean {
  if (entry.http) return /^\/job(\/|$)/.test(entry.http.path);
  return entry.grpc?.some(({ rpc }) => /^On(Topic|BulkTopic|Binding|Job)Event/.test(rpc)) ?? false;
}

function listed(targets: readonly string[]): string {
  return targets.map((target) => `\n  - ${target}`).join('');
}

/** What the audit knows of the app beyond its handlers. */
export interface AuditContext {
  /** A DaprAuthGuard (or one made by daprOr()) the app registered as APP_GUARD itself: it covers HTTP routes, gateways and resolvers. */
  readonly appGuard?: { name: string };
  /** Why no route serves daprd's health probe without a token (tokenless-handlers.ts). */
  readonly probeUnserved?: readonly string[];
  /** Only refuse what is open with `unprotected: 'error'` (the module's constructor, before any server serves). */
  readonly fatalOnly?: boolean;
  /** The app's GraphQL module(s): field resolver guards, federation, custom root types (graphql-options.ts); undefined: none seen. */
  readonly graphql?: GraphqlFacts;
}

/**
 * Whether a resolver Nest treats as a field resolver is a way in of its own, not only a field of
 * what a checked Query or Mutation returned: a federation reference resolver or any resolver of a
 * federated subgraph (`_entities` builds its parent from the client's representation), a field
 * of a root type a schema-first `schema { … }` names otherwise than Query / Mutation / Subscription,
 * or a field of a type that a `@DaprPublic()` root field returns, at any depth (`publiclyReached`).
 */
function isGraphqlWayIn(entry: HandlerEntry, graphql: GraphqlFacts | undefined, publiclyReached: ReadonlySet<string> | 'every type'): boolean {
  const resolver = entry.graphql!;
  return (
    resolver.reference ||
    graphql?.federated === true ||
    graphql?.customRoots.has(resolver.type) === true ||
    publiclyReached === 'every type' ||
    publiclyReached.has(resolver.type)
  );
}

/**
 * The types a client reaches through `@DaprPublic()` root fields (Query, Mutation, Subscription or
 * a custom root type), with no token: the fields of these types resolve for anyone unless Nest runs
 * guards on field resolvers. Every type when the schema could not be read and a root field is public.
 */
function typesReachedPublicly(
  handlers: readonly HandlerEntry[],
  accessOf: ReadonlyMap<HandlerEntry, HandlerAccess>,
  graphql: GraphqlFacts | undefined,
): ReadonlySet<string> | 'every type' {
  const publicRootFields = handlers
    .filter((entry) => entry.graphql && accessOf.get(entry)!.access === 'public')
    .filter((entry) => !entry.graphql!.fieldResolver || graphql?.customRoots.has(entry.graphql!.type))
    .map((entry) => ({ type: entry.graphql!.type, field: entry.graphql!.field }));
  if (publicRootFields.length === 0) return new Set();
  return graphql?.typesReachableFrom(publicRootFields) ?? 'every type';
}

/**
 * The start-up audit: every HTTP route and message / gRPC handler that nothing protects and that
 * is not `@DaprPublic()` (fatal with `unprotected: 'error'`), and the `@DaprPublic()` ones daprd
 * itself calls with the token. Runs before any server serves: for message handlers when the
 * module is created, for HTTP routes once Nest has built their full paths (`handlers` then carry them).
 *
 * @throws DaprAuthConfigError with `unprotected: 'error'` when a handler is left open.
 */
export function auditCoverage(
  handlers: readonly HandlerEntry[],
  accessOf: ReadonlyMap<HandlerEntry, HandlerAccess>,
  options: ResolvedDaprAuthOptions,
  isGlobal: boolean,
  logger: Logger,
  { appGuard, probeUnserved = [], fatalOnly = false, graphql }: AuditContext = {},
): void {
  if (fatalOnly && options.unprotected !== 'error') return;
  if (probeUnserved.length > 0) {
    logger.warn(
      `No route serves GET ${options.healthCheckPath} (healthCheckPath), daprd's HTTP app health probe, without a token:${listed(probeUnserved)}\n` +
        'With app health checks on (dapr.io/enable-app-health-check, --enable-app-health-check) daprd gets 404 or 401, marks the app ' +
        'unhealthy and stops sending it calls. Add a route there (it passes without a token), or set healthCheckPath (and ' +
        '--app-health-check-path) to your health route as Nest serves it (with any global prefix).',
    );
  }
  if (options.unprotected === 'ignore') return;
  const open: string[] = [];
  const conflicting: string[] = [];
  const callersNeverCalled: string[] = [];
  const namespacedOverGrpc: string[] = [];
  const publicDaprCalls: string[] = [];
  const publicPosts: string[] = [];
  const fieldRulesNotRun: string[] = [];
  const unguardedWaysIn: string[] = [];
  const fieldResolverGuards = graphql?.fieldResolverGuards === true;
  const publiclyReached = typesReachedPublicly(handlers, accessOf, graphql);
  for (const entry of handlers) {
    const { access, routeGuarded, conflicting: contradictory, callers, explicitRule } = accessOf.get(entry)!;
    if (contradictory) conflicting.push(entry.target);
    if (entry.graphql?.fieldResolver) {
      if (isGraphqlWayIn(entry, graphql, publiclyReached)) {
        // Reached without any Query: audited as a way in where Nest runs guards on it, else nothing can check it.
        if (!fieldResolverGuards) {
          if (access !== 'public') unguardedWaysIn.push(entry.target);
          if (explicitRule) fieldRulesNotRun.push(entry.target);
          continue;
        }
      } else {
        // Not a way in of its own: it resolves a field of what a Query or Mutation returned, which
        // is checked. A rule on the method itself runs only where Nest runs guards on field resolvers.
        if (explicitRule && !fieldResolverGuards) fieldRulesNotRun.push(entry.target);
        continue;
      }
    }
    if (callers && carriesNoCaller(entry)) callersNeverCalled.push(entry.target);
    if (entry.kind === 'rpc' && (callers ?? options.callers)?.some((allowed) => allowed.namespace !== undefined)) namespacedOverGrpc.push(entry.target);
    if (access === 'public') {
      if (isCalledByDaprd(entry)) publicDaprCalls.push(entry.target);
      else if (entry.http?.method === 'POST') publicPosts.push(entry.target);
      continue;
    }
    if (routeGuarded || isGlobal) continue;
    // @DaprOrAppGuard(): refused earlier (refuseUncoveredDaprOr) unless a guard made by daprOr() runs on it.
    if (access === 'dapr-or-app-guard') continue;
    // The app's own APP_GUARD runs for every HTTP route and gateway; for a connected microservice's handlers only with inheritAppConfig.
    if (appGuard !== undefined && entry.kind !== 'rpc') continue;
    // Start-up decided daprd calls it without a token (its probe, gRPC health and discovery): open by design.
    if (accessOf.get(entry)!.tokenless) continue;
    open.push(entry.target);
  }
  if (fatalOnly) {
    // Before any server serves (the module's constructor): only what must stop the app now.
    if (open.length > 0) throw new DaprAuthConfigError(openMessage(open, appGuard));
    return;
  }
  if (unguardedWaysIn.length > 0) {
    const message =
      `GraphQL resolvers reachable without a checked Query or Mutation, on which Nest runs no guard (global: true and @DaprProtected() included), ` +
      `open to anyone who reaches the port:${listed(unguardedWaysIn)}\n` +
      "A federation subgraph's _entities reaches reference resolvers and every field of an entity; a schema-first root type named otherwise " +
      'than Query / Mutation / Subscription is a field resolver to Nest; a @DaprPublic() Query or Mutation reaches every field resolver of ' +
      "the types it returns, at any depth. Fix: pass `fieldResolverEnhancers: ['guards']` to " +
      'GraphQLModule.forRoot() (then these are checked like any resolver), or mark the ones meant to be open @DaprPublic() (docs/graphql.md).';
    if (options.unprotected === 'error') throw new DaprAuthConfigError(message);
    logger.warn(message);
  }
  if (fieldRulesNotRun.length > 0) {
    const message =
      `Guards on GraphQL field resolvers that Nest never runs (they resolve without any check):${listed(fieldRulesNotRun)}\n` +
      "Fix: pass `fieldResolverEnhancers: ['guards']` to GraphQLModule.forRoot(), or move the rule to the Query / Mutation that returns the type.";
    if (options.unprotected === 'error') throw new DaprAuthConfigError(message);
    logger.warn(message);
  }
  if (callersNeverCalled.length > 0) {
    logger.warn(
      `@DaprCallers() on handlers daprd calls WITHOUT a caller identity (pub/sub, bindings, jobs): every such delivery is refused (403 / 7). ` +
        `Remove @DaprCallers() from them:${listed(callersNeverCalled)}`,
    );
  }
  if (namespacedOverGrpc.length > 0) {
    logger.warn(
      `'namespace/app-id' caller entries never match a gRPC call: over gRPC a calling app can send its own dapr-caller-namespace ` +
        `(daprd's gRPC proxy forwards it alone), so the namespace is not trusted there. List the app id alone:${listed(namespacedOverGrpc)}`,
    );
  }
  if (conflicting.length > 0) {
    logger.warn(`@DaprPublic() and DaprAuthGuard on the same method or class; they are PROTECTED (the guard wins). Keep one:${listed(conflicting)}`);
  }
  if (publicDaprCalls.length > 0 || publicPosts.length > 0) {
    const posts =
      publicPosts.length > 0
        ? `Public POST routes (daprd delivers pub/sub messages and input bindings by POST; if one of these is such a route, it is open to anyone too):${listed(publicPosts)}`
        : '';
    const calls =
      publicDaprCalls.length > 0
        ? `@DaprPublic() handlers that daprd calls WITH the token, open to anyone who reaches the port; remove @DaprPublic() unless that is meant:${listed(publicDaprCalls)}`
        : '';
    logger.warn([calls, posts].filter(Boolean).join('\n'));
  }
  if (open.length === 0) return;
  const message = openMessage(open, appGuard);
  if (options.unprotected === 'error') throw new DaprAuthConfigError(message);
  logger.warn(message);
}

/** The list of open handlers, with the fix. */
function openMessage(open: readonly string[], appGuard: { name: string } | undefined): string {
  return (
    `${open.length} handler(s) without DaprAuthGuard, open to anyone who reaches the port:${listed(open)}\n` +
    'Fix: set `global: true` on DaprAuthModule.forRoot() / forRootAsync(), or add @DaprProtected() to them or their controllers; ' +
    'mark the ones meant to be open with @DaprPublic(). (`unprotected` option: warn | error | ignore.)' +
    (appGuard === undefined
      ? ''
      : `\nYour APP_GUARD ${appGuard.name} covers the HTTP routes; Nest applies an APP_GUARD to the handlers of a microservice ` +
        'connected with app.connectMicroservice() only with { inheritAppConfig: true } (global: true covers them either way).')
  );
}

/**
 * Refuses start-up while a `@DaprOrAppGuard()` handler has no guard made by `daprOr()` running on
 * it: the Dapr check leaves such a handler to that guard, so without it the handler would be open.
 * A `daprOr()` guard counts where Nest runs it for sure: in `@UseGuards` of the method or its class
 * (read from the class Nest reads), or, for HTTP routes and gateways, as an `APP_GUARD` of the app
 * (Nest applies an `APP_GUARD` to a connected microservice only with `inheritAppConfig: true`,
 * which start-up cannot see, so message and gRPC handlers need it in `@UseGuards`).
 *
 * @throws DaprAuthConfigError listing every such handler, with the fix.
 */
export function refuseUncoveredDaprOr(
  handlers: readonly HandlerEntry[],
  accessOf: ReadonlyMap<HandlerEntry, HandlerAccess>,
  appOrGuard: { name: string } | undefined,
): void {
  const uncovered = handlers.filter((entry) => {
    const access = accessOf.get(entry);
    if (access?.access !== 'dapr-or-app-guard' || access.orGuarded) return false;
    return appOrGuard === undefined || entry.kind === 'rpc';
  });
  if (uncovered.length === 0) return;
  throw new DaprAuthConfigError(
    `@DaprOrAppGuard() on handler(s) that no guard made by daprOr() covers, so nothing would check them:${listed(uncovered.map((entry) => entry.target))}\n` +
      'Fix: register your own guard composed with the Dapr check, `{ provide: APP_GUARD, useClass: daprOr(JwtAuthGuard) }` (HTTP routes), or ' +
      'put `@UseGuards(daprOr(JwtAuthGuard))` on the handlers or their controllers (required for message and gRPC handlers); see docs/beside-user-auth.md.',
  );
}
