import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import type { HandlerAccess } from './handler-access.js';
import { type HandlerEntry, isTokenlessDaprHandler } from './handler-inventory.js';
import type { ServedRoute } from './served-routes.js';

/** The HTTP methods daprd's app health probe may be served by (it sends GET). */
const PROBE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'ALL']);

/** What start-up decided about daprd's HTTP health probe. */
export interface ProbeDecision {
  /** The handlers daprd's probe reaches: they pass GET/HEAD without a token. */
  readonly handlers: ReadonlySet<object>;
  /** Why no handler serves the probe without a token, for the start-up warning (empty when one does, or the app has no HTTP routes). */
  readonly unserved: readonly string[];
}

function isProbeRoute(route: ServedRoute, healthCheckPath: string): boolean {
  return PROBE_METHODS.has(route.method) && route.path === healthCheckPath;
}

/**
 * Which HTTP handlers serve daprd's health probe, decided once per handler from the full paths Nest
 * serves (never from a request's URL): a handler passes without a token only if EVERY path it is
 * served at is exactly `healthCheckPath` and a request without a version reaches it. A handler
 * also served elsewhere, or only under a version, is checked like any other.
 *
 * @param routes every served route (`undefined`: Nest's paths could not be read, so none is exempt).
 */
export function decideProbeHandlers(routes: readonly ServedRoute[] | undefined, healthCheckPath: string, hasHttpRoutes: boolean): ProbeDecision {
  if (routes === undefined) {
    return {
      handlers: new Set(),
      unserved: hasHttpRoutes ? ["this @nestjs/core's route paths could not be read, so no route is exempt (report the Nest version)"] : [],
    };
  }
  const byHandler = new Map<object, ServedRoute[]>();
  for (const route of routes) byHandler.set(route.entry.handler, [...(byHandler.get(route.entry.handler) ?? []), route]);
  const handlers = new Set<object>();
  const unserved: string[] = [];
  for (const [handler, served] of byHandler) {
    const atProbe = served.filter((route) => isProbeRoute(route, healthCheckPath));
    if (atProbe.length === 0) continue;
    const elsewhere = served.filter((route) => !isProbeRoute(route, healthCheckPath));
    if (elsewhere.length > 0) {
      unserved.push(`${atProbe[0].entry.target}: its handler is also served at ${elsewhere.map((route) => `${route.method} ${route.path}`).join(', ')}`);
    } else if (!atProbe.every((route) => route.servesUnversioned)) {
      unserved.push(`${atProbe[0].entry.target}: versioned, and daprd's probe sends no version (make it VERSION_NEUTRAL)`);
    } else {
      handlers.add(handler);
    }
  }
  if (handlers.size === 0 && routes.length > 0) {
    const similar = routes.filter((route) => route.path.endsWith(healthCheckPath) && route.path !== healthCheckPath && PROBE_METHODS.has(route.method));
    for (const route of similar) {
      unserved.push(
        `${route.method} ${route.path} is served with a prefix (setGlobalPrefix, RouterModule or URI versioning): daprd probes exactly ${healthCheckPath}. ` +
          `Exclude it from the global prefix, or set healthCheckPath and daprd's --app-health-check-path (dapr.io/app-health-check-path) to ${route.path}`,
      );
    }
    if (unserved.length === 0) unserved.push('no route is served there');
  }
  return { handlers, unserved: handlers.size > 0 ? [] : unserved };
}

/**
 * The gRPC handlers whose every pattern is one of the calls daprd makes without a token (health
 * check, discovery), under every controller that has them, and that are nothing else (not an HTTP
 * route too, not another pattern under a subclass).
 */
export function tokenlessGrpcHandlers(entries: readonly HandlerEntry[]): Set<object> {
  const disqualified = new Set(entries.filter((entry) => entry.kind !== 'rpc' || !isTokenlessDaprHandler(entry)).map((entry) => entry.handler));
  return new Set(entries.filter((entry) => entry.kind === 'rpc' && !disqualified.has(entry.handler)).map((entry) => entry.handler));
}

/** The probe handlers that are nothing else: a method that is also a message or gRPC handler is checked like one. */
export function onlyHttp(handlers: ReadonlySet<object>, entries: readonly HandlerEntry[]): Set<object> {
  const elsewhere = new Set(entries.filter((entry) => entry.kind !== 'http').map((entry) => entry.handler));
  return new Set([...handlers].filter((handler) => !elsewhere.has(handler)));
}

/**
 * An explicit rule on the handler itself (`@DaprProtected()`, `@UseGuards(DaprAuthGuard)` or
 * `@DaprCallers()` on the method) of a call daprd makes without a token contradicts the exemption:
 * the rule would win and daprd's probe or discovery call would be refused (the app marked unhealthy,
 * or left without subscriptions). Start-up refuses it rather than pick one.
 *
 * @throws DaprAuthConfigError listing the handlers, naming the fixes.
 */
export function refuseRulesOnTokenlessHandlers(
  entries: readonly HandlerEntry[],
  tokenless: ReadonlySet<object>,
  accessOf: ReadonlyMap<HandlerEntry, HandlerAccess>,
  what: string,
): void {
  const contradictions = [
    ...new Set(entries.filter((entry) => tokenless.has(entry.handler) && accessOf.get(entry)?.explicitRule).map((entry) => `\n  - ${entry.target}`)),
  ];
  if (contradictions.length === 0) return;
  throw new DaprAuthConfigError(
    `@DaprProtected(), @UseGuards(DaprAuthGuard), @DaprOrAppGuard() or @DaprCallers() on ${what}, which daprd calls WITHOUT a token: daprd's call would be ` +
      `refused.${contradictions.join('')}\nFix: remove the decorator from the method (the handler passes without a token; keep it free ` +
      'of secrets), or serve the probe elsewhere (healthCheckPath and --app-health-check-path), or set exemptTokenlessDaprCalls: false.',
  );
}
