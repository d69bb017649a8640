import { DAPR_TOKENLESS_GRPC_METHODS } from '../dapr-auth.constants.js';
import type { ResolvedDaprAuthOptions } from '../options/dapr-auth.options.js';
import type { HandlerEntry } from '../access/handler-inventory.js';
import type { SidecarApiStatus } from '../callers/sidecar-api-check.js';

/**
 * The one LOG line that says what the guard does in this app: where the accepted tokens come
 * from and how many (never a token), JWT mode, `global` or not, the handlers it sees per
 * transport, and what passes without a token.
 */
export function describeSetup(
  options: ResolvedDaprAuthOptions,
  isGlobal: boolean,
  handlers: readonly HandlerEntry[],
  sidecarApi: SidecarApiStatus = { state: 'not-checked' },
  metricsTarget?: string,
  appGuard?: { name: string },
  probeUnserved = false,
): string {
  const count = options.tokenSource?.getTokens().length;
  const tokens = count === undefined ? `no token, from ${options.tokenOrigin}` : `${count} accepted token${count === 1 ? '' : 's'} from ${options.tokenOrigin}`;
  const jwt = options.jwt ? `, verified as a JWT (${options.jwt.algorithms.join(', ')}; keys: ${options.jwt.keySource.kind})` : '';
  const scope = isGlobal
    ? 'global: every route, message handler and resolver that is not @DaprPublic()'
    : appGuard !== undefined
      ? `APP_GUARD ${appGuard.name} (the app's own): every HTTP route that is not @DaprPublic(), and where @DaprProtected() / @UseGuards(DaprAuthGuard) is`
      : 'where @DaprProtected() / @UseGuards(DaprAuthGuard) is';
  const http = handlers.filter((entry) => entry.kind === 'http').length;
  const rpc = handlers.filter((entry) => entry.kind === 'rpc').length;
  const ws = handlers.filter((entry) => entry.kind === 'ws').length;
  const graphql = handlers.filter((entry) => entry.kind === 'graphql' && (!entry.graphql?.fieldResolver || entry.graphql.reference)).length;
  const probe = probeUnserved ? ' (no route serves it without a token: see the warning)' : '';
  const exempt = options.exemptTokenlessDaprCalls
    ? `GET/HEAD ${options.healthCheckPath}${probe} and gRPC ${[...DAPR_TOKENLESS_GRPC_METHODS].map((path) => path.split('/').pop()).join(', ')}`
    : 'nothing (exemptTokenlessDaprCalls: false)';
  const sidecar = sidecarApi.address === undefined ? 'not checked (DAPR_HTTP_PORT not set)' : `checked in the background at ${sidecarApi.address}`;
  const mode = options.mode === 'report' ? 'REPORT-ONLY (nothing is refused): ' : '';
  return `${mode}Checking ${options.tokenHeader}: ${tokens}${jwt}; ${scope}; ${http} HTTP route(s), ${rpc} gRPC / message handler(s)${ws > 0 ? `, ${ws} WebSocket handler(s)` : ''}${graphql > 0 ? `, ${graphql} GraphQL resolver(s)` : ''}; passing without a token: ${exempt}; daprd API requiring DAPR_API_TOKEN: ${sidecar}; metrics: ${options.metrics ? (metricsTarget ?? 'OpenTelemetry') : 'off'}.`;
}
