import 'reflect-metadata';
import { type INestApplication, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as grpc from '@grpc/grpc-js';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { redactDaprTokensInGrpcJsLogs } from 'nestjs-dapr-auth';
import { APP_CALLBACK_PROTO, DAPR_PROTO_LOADER_OPTIONS } from './dapr-protos.js';
import { AppModule } from './app.module.js';
import { startPrometheusMetrics } from './metrics.js';

export const DEFAULT_HTTP_PORT = 3000;
export const DEFAULT_GRPC_PORT = 50051;
/** The Prometheus endpoint's port (OpenTelemetry's usual one). */
export const DEFAULT_METRICS_PORT = 9464;

/** Where the example app listens. */
export interface ExampleAppOptions {
  host?: string;
  /** HTTP port (daprd `--app-port` with `--app-protocol http`). */
  httpPort?: number;
  /** gRPC port (daprd `--app-port` with `--app-protocol grpc`). */
  grpcPort?: number;
  /** Port of the Prometheus metrics endpoint, or false for no metrics. Default 9464. */
  metricsPort?: number | false;
  logger?: LoggerService | LogLevel[] | false;
}

/** The running example app and the addresses it listens on. */
export interface ExampleApp {
  app: INestApplication;
  httpUrl: string;
  grpcAddress: string;
  /** `http://host:port/metrics`, when metrics are on. */
  metricsUrl?: string;
}

/**
 * Starts the example app: HTTP on Express plus Dapr's gRPC AppCallback as a connected
 * microservice. `inheritAppConfig: true` is what makes the global DaprAuthGuard cover gRPC too.
 */
export async function startExampleApp(options: ExampleAppOptions = {}): Promise<ExampleApp> {
  const host = options.host ?? '127.0.0.1';
  // grpc-js logs a metadata value it refuses, before any guard runs: keep tokens out of that.
  redactDaprTokensInGrpcJsLogs(grpc);
  const metricsPort = options.metricsPort ?? DEFAULT_METRICS_PORT;
  const metrics = metricsPort === false ? undefined : await startPrometheusMetrics(host, metricsPort);
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: options.logger, abortOnError: false });
  // daprd delivers pub/sub messages as application/cloudevents+json.
  app.useBodyParser('json', { type: ['application/json', 'application/cloudevents+json'] });
  const grpcPort = options.grpcPort ?? DEFAULT_GRPC_PORT;
  const httpPort = options.httpPort ?? DEFAULT_HTTP_PORT;
  app.connectMicroservice<MicroserviceOptions>(
    {
      transport: Transport.GRPC,
      options: {
        package: 'dapr.proto.runtime.v1',
        protoPath: APP_CALLBACK_PROTO,
        url: `${host}:${grpcPort}`,
        loader: DAPR_PROTO_LOADER_OPTIONS,
      },
    },
    { inheritAppConfig: true },
  );
  app.enableShutdownHooks();
  await app.startAllMicroservices();
  await app.listen(httpPort, host);
  // Stop the metrics endpoint with the app.
  if (metrics) {
    const close = app.close.bind(app);
    app.close = async () => {
      await close();
      await metrics.shutdown();
    };
  }
  return { app, httpUrl: `http://${host}:${httpPort}`, grpcAddress: `${host}:${grpcPort}`, metricsUrl: metrics?.url };
}
