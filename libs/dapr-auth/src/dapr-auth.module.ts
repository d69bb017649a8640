import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, HttpAdapterHost, MetadataScanner, Reflector } from '@nestjs/core';
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
import { findUnguardedGrpcHandlers } from './unguarded-grpc-handlers.js';

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
export class DaprAuthModule extends ConfigurableDaprAuthModule implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(DAPR_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedDaprAuthOptions,
    @Inject(DAPR_TOKEN_SOURCE) private readonly tokenSource: DaprTokenSource | null,
    @Inject(DAPR_AUTH_GLOBAL_GUARD) private readonly isGlobalGuard: boolean,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly httpAdapterHost: HttpAdapterHost,
  ) {
    super();
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

  onApplicationBootstrap(): void {
    this.warnAboutUnguardedGrpcHandlers();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.tokenSource?.close?.();
  }

  private warnAboutUnguardedGrpcHandlers(): void {
    const unguarded = findUnguardedGrpcHandlers(this.discovery, this.scanner, this.reflector, this.options.exemptTokenlessDaprCalls);
    if (unguarded.length === 0) return;
    const shown = unguarded.length > 3 ? `${unguarded.slice(0, 3).join(', ')} and ${unguarded.length - 3} more` : unguarded.join(', ');
    if (!this.isGlobalGuard) {
      logger.warn(
        `gRPC handlers without DaprAuthGuard: ${shown}. Anyone who can reach the gRPC port can call them. ` +
          'Add @DaprProtected() to them or their controller, or set `global: true`.',
      );
    } else if (this.httpAdapterHost.httpAdapter) {
      // A hybrid app. Whether Nest applies APP_GUARD to the connected microservice depends on an
      // option of connectMicroservice() that cannot be seen from here, so say it once, plainly.
      logger.log(
        `global: true protects the gRPC handlers of this hybrid app (${shown}) only if their microservice ` +
          'was connected with app.connectMicroservice(options, { inheritAppConfig: true }); without it they are NOT protected.',
      );
    }
  }
}
