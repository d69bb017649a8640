/**
 * nestjs-dapr-auth/standalone: the Dapr app-token check without Nest (`DaprServer`, Express,
 * Fastify, `node:http`). Loads no Nest package.
 * @packageDocumentation
 */
export * from './dapr-token-check.js';
export * from './express-middleware.js';
export * from './fastify-hook.js';
export { DaprAuthConfigError } from '../dapr-auth.errors.js';
export type { DaprTokenSource } from '../tokens/dapr-token-source.js';
