/**
 * What daprd says of how it calls the app (`GET /v1.0/metadata`), compared with what the Nest app
 * serves. Pure functions: the check (sidecar-wiring-check.ts) reads both sides.
 */
import { compileRoute } from './route-matcher.js';

/** The parts of daprd's metadata the comparison reads (Dapr 1.12+; measured on 1.18). */
export interface DaprdWiring {
  /** Whether the answer looks like daprd's metadata at all (it has `id` or `appConnectionProperties`). */
  readonly recognised: boolean;
  /** `appConnectionProperties.port`: where daprd calls the app (`--app-port`, `dapr.io/app-port`); absent without one. */
  readonly appPort?: number;
  /** `appConnectionProperties.protocol`: `http`, `https`, `h2c`, `grpc` or `grpcs`. */
  readonly protocol?: string;
  /** `appConnectionProperties.health.healthCheckPath`: only with app health checks on (HTTP apps). */
  readonly healthCheckPath?: string;
  /** Every subscription's topic and kind (`DECLARATIVE`, `PROGRAMMATIC`, `STREAMING`), shown as visible ASCII, and rule paths as daprd sent them (to 4,096 characters: never logged as they are). */
  readonly subscriptions: ReadonlyArray<{ readonly pubsub: string; readonly topic: string; readonly type: string; readonly paths: readonly string[] }>;
  /** Subscriptions past the ones compared (a bound: what answers may not be daprd): a finding, never an all-clear. */
  readonly omittedSubscriptions: number;
  /** Rule paths past the ones compared (MAX_RULE_PATHS over all subscriptions): a finding too. */
  readonly omittedPaths: number;
}

/** What the Nest app serves, as start-up decided it (and, for the port, as it listens now). */
export interface ServedApp {
  /** The port the app's HTTP server listens on; undefined when it has none or does not listen (yet). */
  readonly httpPort: number | undefined;
  /** Whether the app has an HTTP server at all (not a microservice-only app). */
  readonly httpServer: boolean;
  /** Whether a handler serves Dapr's gRPC `AppCallback` service (what daprd calls over gRPC). */
  readonly appCallback: boolean;
  /** The HTTP routes, with the full paths Nest serves them at; `public`: `@DaprPublic()` decides it. */
  readonly routes: ReadonlyArray<{ readonly method: string; readonly path: string; readonly public: boolean; readonly target: string }>;
  /** The path the module lets daprd's probe reach without a token (option `healthCheckPath`). */
  readonly healthCheckPath: string;
}

/** One way the sidecar's wiring and the app disagree. `error`: something is open; `warn`: calls fail or miss the guard. */
export interface SidecarWiringFinding {
  readonly level: 'error' | 'warn';
  readonly kind: 'app-port' | 'app-protocol' | 'health-path' | 'subscription-unserved' | 'subscription-public' | 'subscriptions-omitted';
  /** One line, with the fix; never a token. */
  readonly message: string;
}

/** Subscriptions compared at most: an app has a handful, and each is matched against every route. */
export const MAX_SUBSCRIPTIONS = 2000;
/** A path is matched on up to this many characters (and shown on up to 200). */
const MAX_PATH = 4096;
/** Rule paths compared at most, over all subscriptions (a subscription may list any number of rules). */
export const MAX_RULE_PATHS = 2000;
/**
 * The matching work (matcher steps) one comparison may do, which runs on the app's event loop:
 * about 0.1 s here. An app's real wiring needs a few thousand; past it, a finding says what was not compared.
 */
export const MAX_MATCH_STEPS = 10_000_000;

/** Reads daprd's answer defensively: what is missing or of another shape is left out, never guessed. */
export function readDaprdWiring(body: unknown): DaprdWiring {
  const root = isObject(body) ? body : {};
  const connection = isObject(root.appConnectionProperties) ? root.appConnectionProperties : {};
  const health = isObject(connection.health) ? connection.health : {};
  // Bounded: what answers may not be daprd (an API found open), and each finding is a log line.
  const listed = Array.isArray(root.subscriptions) ? root.subscriptions : [];
  const subscriptions = listed.slice(0, MAX_SUBSCRIPTIONS).filter(isObject);
  let pathsLeft = MAX_RULE_PATHS;
  let omittedPaths = 0;
  const rulePaths = (rules: unknown): string[] => {
    const paths = (Array.isArray(rules) ? rules.filter(isObject) : [])
      // Matched as daprd sent it (a path of other characters may still be served); shown only through text().
      .map((rule) => (typeof rule.path === 'string' ? rule.path.slice(0, MAX_PATH) : ''))
      .filter((path) => path !== '');
    const kept = paths.slice(0, pathsLeft);
    pathsLeft -= kept.length;
    omittedPaths += paths.length - kept.length;
    return kept;
  };
  return {
    recognised: typeof root.id === 'string' || isObject(root.appConnectionProperties),
    appPort: typeof connection.port === 'number' && connection.port > 0 ? connection.port : undefined,
    protocol: text(connection.protocol) || undefined,
    healthCheckPath: text(health.healthCheckPath) || undefined,
    subscriptions: subscriptions.map((subscription) => ({
      pubsub: text(subscription.pubsubname),
      topic: text(subscription.topic),
      type: text(subscription.type),
      paths: rulePaths(subscription.rules),
    })),
    omittedSubscriptions: Math.max(0, listed.length - MAX_SUBSCRIPTIONS),
    omittedPaths,
  };
}

/** Every disagreement between daprd's wiring and the app, most serious first. */
export function compareWiring(daprd: DaprdWiring, app: ServedApp, show: (name: string) => string = (name) => name): SidecarWiringFinding[] {
  // Decided on daprd's values; every name from its answer is shown through `show` (the check redacts its secret there).
  const shown = {
    protocol: daprd.protocol && show(daprd.protocol),
    healthCheckPath: daprd.healthCheckPath && show(daprd.healthCheckPath),
  };
  const named = {
    ...daprd,
    subscriptions: daprd.subscriptions.map((subscription) => ({
      ...subscription,
      pubsub: show(subscription.pubsub),
      topic: show(subscription.topic),
      type: show(subscription.type),
      streaming: subscription.type === 'STREAMING',
    })),
  };
  const findings: SidecarWiringFinding[] = [];
  const grpc = daprd.protocol === 'grpc' || daprd.protocol === 'grpcs';
  if (!grpc) findings.push(...subscriptionFindings(named, app, (path) => show(text(path))));
  if (daprd.omittedSubscriptions > 0) {
    findings.push({
      level: 'warn',
      kind: 'subscriptions-omitted',
      message: `daprd reports ${daprd.omittedSubscriptions + MAX_SUBSCRIPTIONS} subscriptions; only the first ${MAX_SUBSCRIPTIONS} were compared with this app's routes.`,
    });
  }
  if (daprd.omittedPaths > 0) {
    findings.push({
      level: 'warn',
      kind: 'subscriptions-omitted',
      message: `daprd's subscriptions list ${daprd.omittedPaths + MAX_RULE_PATHS} rule paths; only the first ${MAX_RULE_PATHS} were compared with this app's routes.`,
    });
  }
  if (grpc && !app.appCallback) {
    findings.push({
      level: 'warn',
      kind: 'app-protocol',
      message:
        `daprd calls the app over gRPC (--app-protocol ${shown.protocol}), but no handler of this app serves Dapr's AppCallback service: ` +
        "daprd's calls do not reach this app's handlers (nor its guard). Fix: serve AppCallback (docs/grpc-and-hybrid.md), or run daprd with --app-protocol http.",
    });
  }
  if (!grpc && daprd.appPort !== undefined && !app.httpServer) {
    findings.push({
      level: 'warn',
      kind: 'app-protocol',
      message: `daprd calls the app over ${shown.protocol ?? 'http'} on port ${daprd.appPort}, but this app has no HTTP server: what answers there is not guarded by this module.`,
    });
  }
  if (!grpc && daprd.appPort !== undefined && app.httpPort !== undefined && daprd.appPort !== app.httpPort) {
    findings.push({
      level: 'warn',
      kind: 'app-port',
      message:
        `daprd calls the app on port ${daprd.appPort} (--app-port, dapr.io/app-port), but this Nest app's HTTP server listens on ${app.httpPort}: daprd's ` +
        'calls reach another server (a DaprServer of @dapr/dapr?), where this guard never runs. Fix: point --app-port at the Nest app, or put the ' +
        'standalone check in front of that server (docs/dapr-server.md).',
    });
  }
  if (!grpc && daprd.healthCheckPath !== undefined && stripQuery(daprd.healthCheckPath) !== app.healthCheckPath) {
    findings.push({
      level: 'warn',
      kind: 'health-path',
      message:
        `daprd probes GET ${shown.healthCheckPath} (--app-health-check-path), but the module lets daprd's probe through without a token only at ` +
        `${app.healthCheckPath}: the probe gets 401 (or 404), daprd marks the app unhealthy and stops calling it. Fix: healthCheckPath: '${stripQuery(shown.healthCheckPath!)}', or the same path for daprd.`,
    });
  }
  return findings.sort((a, b) => (a.level === b.level ? 0 : a.level === 'error' ? -1 : 1));
}

/** Each subscription route against the POST routes: served by a `@DaprPublic()` handler (open), or by none. */
function subscriptionFindings(
  daprd: DaprdWiring & { subscriptions: ReadonlyArray<{ streaming: boolean }> },
  app: ServedApp,
  showPath: (path: string) => string,
): SidecarWiringFinding[] {
  const findings: SidecarWiringFinding[] = [];
  const deliveries = app.routes
    .filter((route) => route.method === 'POST' || route.method === 'ALL')
    .map((route) => ({ ...route, matcher: compileRoute(trimSlashes(route.path)) }));
  let steps = 0;
  let compared = 0;
  const total = daprd.subscriptions.reduce((sum, subscription) => sum + subscription.paths.length, 0);
  const matches = (route: (typeof deliveries)[number], form: string) => {
    const matched = route.matcher.matches(form);
    steps += route.matcher.steps;
    return matched;
  };
  for (const subscription of daprd.subscriptions) {
    if (subscription.streaming) continue; // delivered over the app's own stream to daprd, not to a route
    for (const path of new Set(subscription.paths.map(normalisePath))) {
      if (steps > MAX_MATCH_STEPS) {
        findings.push({
          level: 'warn',
          kind: 'subscriptions-omitted',
          message: `the comparison stopped after ${compared} of ${total} subscription paths (its work is bounded: it runs on the app's event loop); the rest were not compared.`,
        });
        return findings;
      }
      compared++;
      const served = deliveries.filter((route) => pathForms(path).some((form) => matches(route, form)));
      const name = `topic "${subscription.topic}" of ${subscription.pubsub} (${subscription.type.toLowerCase() || 'subscription'})`;
      if (served.length === 0) {
        findings.push({
          level: 'warn',
          kind: 'subscription-unserved',
          message: `daprd delivers ${name} by POST ${showPath(path)}, which no route of this app serves: every delivery gets 404 and is retried or dropped.`,
        });
        continue;
      }
      const open = served.filter((route) => route.public);
      if (open.length > 0) {
        findings.push({
          level: 'error',
          kind: 'subscription-public',
          message:
            `daprd delivers ${name} by POST ${showPath(path)}, and @DaprPublic() ${open.map((route) => shortened(route.target)).join(', ')} serves it: anyone who reaches ` +
            "the app's port can post events daprd never sent. Fix: remove @DaprPublic() (daprd delivers with the token).",
        });
      }
    }
  }
  return findings;
}

/** The path as daprd reports it and, where it has percent-escapes, as the HTTP server decodes it. */
function pathForms(path: string): string[] {
  if (!path.includes('%')) return [path];
  try {
    return [path, decodeURIComponent(path)];
  } catch {
    return [path];
  }
}

/** `/orders` for `orders`, `/orders/`, `/orders?x` and `/orders#x`: what daprd posts to (Go's URL parsing drops a fragment). */
function normalisePath(path: string): string {
  return trimSlashes(stripQuery(path));
}

/** A leading slash, no trailing ones (a route pattern keeps its `?` and `#`: they are its syntax). */
function trimSlashes(bare: string): string {
  const slashed = bare.startsWith('/') ? bare : `/${bare}`;
  // A loop, not /\/+$/: that regular expression takes quadratic time on a long run of slashes.
  let end = slashed.length;
  while (end > 1 && slashed[end - 1] === '/') end--;
  return slashed.slice(0, end);
}

function stripQuery(path: string): string {
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}

/** A string field fit for a log line (visible ASCII, at most 200 characters), or '' for anything else. */
function text(value: unknown, limit = 200): string {
  if (typeof value !== 'string') return '';
  return shortened(value.slice(0, limit + 1).replace(/[^\x20-\x7e]/g, '?'), limit);
}

/** At most `limit` characters, `…` where cut: what a log line shows of a path matched on more. */
function shortened(value: string, limit = 200): string {
  return value.length > limit ? `${value.slice(0, limit)}…` : value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
