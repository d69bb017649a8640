import { type LogLevel, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { DaprAuthModule } from 'nestjs-dapr-auth';
import { AppCallbackController } from './app-callback.controller.js';
import { DaprController } from './dapr.controller.js';
import { jwtFromEnvironment } from './jwt-config.js';
import { exampleMeterProvider } from './metrics.js';
import { OrderActorController } from './order-actor.controller.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';

/**
 * The example Dapr app. Every route and gRPC method is protected by one global DaprAuthGuard.
 * The token is read from the file named by `APP_API_TOKEN_FILE` when it is set, else from
 * `APP_API_TOKEN` (the module's default, which `ConfigModule` also fills from a `.env` file); the
 * other settings come through `@nestjs/config`'s ConfigService.
 */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    DaprAuthModule.forRootAsync({
      global: true,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        // A mounted Secret (recommended on Kubernetes: followed as it rotates); else APP_API_TOKEN.
        tokenFile: config.get<string>('APP_API_TOKEN_FILE') || undefined,
        // JWT_ALGORITHMS and a key: the token is also verified as a JWT (see jwt-config.ts).
        jwt: jwtFromEnvironment(config),
        healthCheckPath: config.get<string>('APP_HEALTH_CHECK_PATH', '/healthz'),
        logRejections: config.get<LogLevel>('DAPR_AUTH_LOG_LEVEL', 'warn'),
        // POST /orders/:id/cancel has @DaprCallers('checkout'): the app starts only with DAPR_API_TOKEN
        // (daprd's API closed to other clients), unless this says to accept forgeable caller ids.
        allowForgeableCallers: config.get<string>('DAPR_AUTH_ALLOW_FORGEABLE_CALLERS') === 'true',
        // OpenTelemetry metrics of every decision, exported for Prometheus (src/metrics.ts).
        metrics: exampleMeterProvider() ? { meterProvider: exampleMeterProvider() } : false,
      }),
    }),
  ],
  controllers: [OrdersController, DaprController, OrderActorController, AppCallbackController],
  providers: [OrdersService],
})
export class AppModule {}
