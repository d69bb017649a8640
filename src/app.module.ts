import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { DaprAuthModule } from 'nestjs-dapr-auth';
import { AppCallbackController } from './app-callback.controller.js';
import { DaprController } from './dapr.controller.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';

/**
 * The example Dapr app. Every route and gRPC method is protected by one global DaprAuthGuard;
 * the token comes from `APP_API_TOKEN` through `@nestjs/config`.
 */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    DaprAuthModule.forRootAsync({
      global: true,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        token: config.get<string>('APP_API_TOKEN'),
        healthCheckPath: config.get<string>('APP_HEALTH_CHECK_PATH', '/healthz'),
      }),
    }),
  ],
  controllers: [OrdersController, DaprController, AppCallbackController],
  providers: [OrdersService],
})
export class AppModule {}
