import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner } from '@nestjs/core';
import {
  DAPR_AUTH_GLOBAL_GUARD,
  DAPR_AUTH_MODULE_OPTIONS,
  DAPR_AUTH_RESOLVED_OPTIONS,
  DAPR_JWT_VERIFIER,
  DAPR_TOKEN_SOURCE,
  DAPR_TRANSPORT_ADAPTERS,
} from './dapr-auth.constants.js';
import { DaprAuthGuard } from './dapr-auth.guard.js';
import {
  ConfigurableDaprAuthModule,
  type DaprAuthModuleAsyncOptions,
  type DaprAuthModuleForRootOptions,
} from './dapr-auth.module-definition.js';
import { type DaprAuthModuleOptions, type ResolvedDaprAuthOptions, resolveDaprAuthOptions } from './dapr-auth.options.js';
import { JwtVerifier } from './jwt/jwt-verifier.js';
import type { DaprTokenSource } from './tokens/dapr-token-source.js';
import { createTransportAdapters } from './transports/create-transport-adapters.js';
import { listHandlers } from './handler-inventory.js';
import { addStreamCallRejectionFilter, auditCoverage, guardMessageHandlers } from './start-up-coverage.js';

const logger = new Logger('DaprAuthModule');

/**
 * Verifies that requests come from the app's own Dapr sidecar (its `APP_API_TOKEN`).
 *
 * Import it once, in the root module, with {@link DaprAuthModule.forRoot} or
 * {@link DaprAuthModule.forRootAsync}. It is a global module: {@link DaprAuthGuard} can then be
 * used in any module. With `global: true` the guard protects every route and gRPC method.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: DAPR_AUTH_RESOLVED_OPTIONS,
      inject: [DAPR_AUTH_MODULE_OPTIONS],
      useFactory: (options: DaprAuthModuleOptions) => resolveDaprAuthOptions(options),
    },
    {
      provide: DAPR_TOKEN_SOURCE,
      inject: [DAPR_AUTH_RESOLVED_OPTIONS],
      // null only with allowUnconfigured and no token: the guard then lets everything through.
      useFactory: (options: ResolvedDaprAuthOptions) => options.tokenSource ?? null,
    },
    {
      provide: DAPR_TRANSPORT_ADAPTERS,
      inject: [DAPR_AUTH_RESOLVED_OPTIONS],
      useFactory: (options: ResolvedDaprAuthOptions) => createTransportAdapters(options, new Logger('DaprAuthGuard')),
    },
    {
      provide: DAPR_JWT_VERIFIER,
      inject: [DAPR_AUTH_RESOLVED_OPTIONS],
      // jose is imported here, and only when `jwt` is set.
      useFactory: async (options: ResolvedDaprAuthOptions) => (options.jwt ? await JwtVerifier.create(options.jwt, logger) : null),
    },
    DaprAuthGuard,
  ],
  exports: [DAPR_AUTH_RESOLVED_OPTIONS, DAPR_TOKEN_SOURCE, DAPR_TRANSPORT_ADAPTERS, DAPR_JWT_VERIFIER, DaprAuthGuard],
})
export class DaprAuthModule extends ConfigurableDaprAuthModule implements OnModuleInit, OnApplicationShutdown {
  private readonly unguardMessageHandlers: () => void = () => undefined;

  constructor(
    @Inject(DAPR_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedDaprAuthOptions,
    @Inject(DAPR_TOKEN_SOURCE) private readonly tokenSource: DaprTokenSource | null,
    @Inject(DAPR_AUTH_GLOBAL_GUARD) isGlobalGuard: boolean,
    guard: DaprAuthGuard,
    discovery: DiscoveryService,
    scanner: MetadataScanner,
  ) {
    super();
    // Here, not in a lifecycle hook: app.connectMicroservice() registers its handlers (and reads
    // their guards) right away, before onModuleInit; and a fatal audit must stop the app before
    // any server listens.
    const handlers = listHandlers(discovery, scanner);
    addStreamCallRejectionFilter(handlers);
    if (isGlobalGuard) this.unguardMessageHandlers = guardMessageHandlers(handlers, guard);
    auditCoverage(handlers, options, isGlobalGuard, logger);
  }

  /**
   * Registers the module with static options (all optional: by default the token is read from
   * `APP_API_TOKEN`). `global: true` registers {@link DaprAuthGuard} as `APP_GUARD`.
   */
  static forRoot(options: DaprAuthModuleForRootOptions = {}): DynamicModule {
    return super.forRoot(options);
  }

  /**
   * Registers the module with options from a factory, class or existing provider, e.g.
   * `@nestjs/config`'s `ConfigService`: `{ imports, inject, useFactory, global }`.
   */
  static forRootAsync(options: DaprAuthModuleAsyncOptions): DynamicModule {
    return super.forRootAsync(options);
  }

  onModuleInit(): void {
    for (const warning of this.options.warnings) logger.warn(warning);
  }

  async onApplicationShutdown(): Promise<void> {
    this.unguardMessageHandlers();
    await this.tokenSource?.close?.();
  }
}
