import type { Type } from '@nestjs/common';
import type { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { DAPR_AUTH_ACCESS_METADATA, DAPR_TOKENLESS_GRPC_METHODS } from './dapr-auth.constants.js';
import { DaprAuthGuard } from './dapr-auth.guard.js';

/** `GUARDS_METADATA` of `@nestjs/common/constants` (not in its public index). */
const GUARDS_METADATA = '__guards__';
/** `PATTERN_METADATA` of `@nestjs/microservices` (an optional peer, so not imported). */
const PATTERN_METADATA = 'microservices:pattern';

interface GrpcPattern {
  service: string;
  rpc: string;
}

function isGrpcPattern(pattern: unknown): pattern is GrpcPattern {
  return typeof pattern === 'object' && pattern !== null && 'service' in pattern && 'rpc' in pattern;
}

/** Whether the pattern is one of the calls daprd makes without a token (the pattern has no package). */
function isTokenlessDaprCall({ service, rpc }: GrpcPattern): boolean {
  return [...DAPR_TOKENLESS_GRPC_METHODS].some((path) => path.endsWith(`.${service}/${rpc}`));
}

function hasDaprAuthGuard(target: object): boolean {
  const guards = (Reflect.getMetadata(GUARDS_METADATA, target) ?? []) as Array<Type | object>;
  return guards.some((guard) => guard === DaprAuthGuard || (typeof guard === 'function' && guard.prototype instanceof DaprAuthGuard) || guard instanceof DaprAuthGuard);
}

/**
 * `Controller.method` of every gRPC handler that neither `@UseGuards(DaprAuthGuard)` /
 * `@DaprPublic()` covers (on it or its class), leaving out the token-less Dapr calls when they are
 * exempt anyway. Start-up only.
 */
export function findUnguardedGrpcHandlers(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  reflector: Reflector,
  tokenlessCallsExempt: boolean,
): string[] {
  const unguarded: string[] = [];
  for (const wrapper of discovery.getControllers()) {
    const instance = wrapper.instance as Record<string, unknown> | undefined;
    if (!instance || !wrapper.metatype) continue;
    const controller = wrapper.metatype as Type;
    for (const name of scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
      const handler = instance[name] as object;
      const patterns = ((Reflect.getMetadata(PATTERN_METADATA, handler) ?? []) as unknown[]).filter(isGrpcPattern);
      if (patterns.length === 0) continue;
      if (tokenlessCallsExempt && patterns.every(isTokenlessDaprCall)) continue;
      const access = reflector.getAllAndOverride<string | undefined>(DAPR_AUTH_ACCESS_METADATA, [handler as () => void, controller]);
      if (access === 'public' || hasDaprAuthGuard(handler) || hasDaprAuthGuard(controller)) continue;
      unguarded.push(`${controller.name}.${name}`);
    }
  }
  return unguarded;
}
