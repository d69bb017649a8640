/**
 * nestjs-dapr-auth: verify in a NestJS app that each request comes from its own Dapr sidecar.
 * This file is the whole public API.
 * @packageDocumentation
 */
export {
  DAPR_API_TOKEN_HEADER,
  DAPR_CALLER_APP_ID_HEADER,
  DAPR_CALLER_NAMESPACE_HEADER,
  DAPR_AUTH_MODULE_OPTIONS,
  DAPR_AUTH_RESOLVED_OPTIONS,
  DAPR_JWT_VERIFIER,
  DAPR_TOKEN_SOURCE,
  DAPR_TOKENLESS_GRPC_METHODS,
  DEFAULT_HEALTH_CHECK_PATH,
  DEFAULT_MAX_TOKEN_LENGTH,
  DEFAULT_TOKEN_ENV_VAR,
  DEFAULT_TOKEN_FILE_GRACE_PERIOD,
  DEFAULT_TOKEN_FILE_POLL_INTERVAL,
  FORBIDDEN_MESSAGE,
  GRPC_STATUS_PERMISSION_DENIED,
  GRPC_STATUS_UNAUTHENTICATED,
  REJECTION_HTTP_BODY,
  REJECTION_MESSAGE,
} from './dapr-auth.constants.js';
export { DaprAuthGuard, type RejectionReason } from './dapr-auth.guard.js';
export { DaprAuthStatus } from './observe/dapr-auth.status.js';
export { DaprAuthHealthIndicator, type DaprAuthHealthResult } from './integrations/dapr-auth.health.js';
export type { SidecarApiRejection, SidecarApiState, SidecarApiStatus } from './callers/sidecar-api-check.js';
export type { SidecarWiringState, SidecarWiringStatus } from './wiring/sidecar-wiring-check.js';
export type { SidecarWiringFinding } from './wiring/compare-wiring.js';
export { addDaprAuthToSwagger, DAPR_SWAGGER_SECURITY_SCHEME, type OpenApiDocumentLike } from './integrations/add-dapr-auth-to-swagger.js';
export type { DecisionOutcome, TokenGeneration } from './observe/metrics/decision-recorder.js';
export { DaprAuthModule } from './dapr-auth.module.js';
export type { DaprAuthModuleAsyncOptions, DaprAuthModuleForRootOptions } from './dapr-auth.module-definition.js';
export { DaprAuthConfigError } from './dapr-auth.errors.js';
export { resolveDaprAuthOptions } from './options/resolve-dapr-auth-options.js';
export {
  type DaprAuthModuleExtras,
  type DaprAuthMetricsOptions,
  type DaprAuthModuleOptions,
  type DaprAuthUnprotectedPolicy,
  type DaprRejectionLogLimit,
  type ResolvedDaprAuthOptions,
} from './options/dapr-auth.options.js';
export type { HandlerAccess } from './access/handler-access.js';
export { DaprAuthRules, type DaprAuthRule, type DaprCallVerifier } from './access/dapr-auth-rules.js';
export { daprOr } from './access/dapr-or.js';
export type { PresentedCaller, PresentedToken, RejectionKind, TokenRejection } from './pipeline.types.js';
export type { AllowedCaller, CallerRejection, DaprCallerIdentity } from './callers/caller-rule.js';
export { DaprCaller } from './decorators/dapr-caller.decorator.js';
export { DaprCallers } from './decorators/dapr-callers.decorator.js';
export { DaprClaims } from './decorators/dapr-claims.decorator.js';
export { DaprOrAppGuard } from './decorators/dapr-or-app-guard.decorator.js';
export { DaprProtected } from './decorators/dapr-protected.decorator.js';
export { DaprPublic } from './decorators/dapr-public.decorator.js';
export { redactDaprTokenInMessage, redactDaprTokensInGrpcJsLogs, type GrpcJsLogging, type GrpcLogSink } from './observe/grpc-js-logs.js';
export type { DaprJwk, DaprJwtOptions } from './jwt/dapr-jwt.options.js';
export type { JwtFailure } from './jwt/jwt-rejection.js';
export type { DaprTokenSource } from './tokens/dapr-token-source.js';
export { FileTokenSource, type FileTokenSourceOptions } from './tokens/file-token-source.js';
export { StaticTokenSource } from './tokens/static-token-source.js';
export type { TransportAdapter } from './transports/transport-adapter.js';
// The check without Nest (also nestjs-dapr-auth/standalone): createDaprTokenCheck, daprAuthExpressMiddleware, daprAuthFastifyHook, their types.
export * from './standalone/index.js';
