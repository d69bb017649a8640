import 'reflect-metadata';
import { type INestApplication, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as grpc from '@grpc/grpc-js';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { redactDaprTokensInGrpcJsLogs } from 'nestjs-dapr-auth';
import { APP_CALLBACK_PROTO, DAPR_PROTO_LOADER_OPTIONS } from './dapr-protos.js';
import { AppModule } from './app.module.js';

export const DEFAULT_HTTP_PORT = 3000;
export const DEFAULT_GRPC_PORT = 50051;

/** Where the example app listens. */
export interface ExampleAppOptions {
  host?: string;
  /** HTTP port (daprd `--app-port` with `--app-protocol http`). */
  httpPort?: number;
  /** gRPC port (daprd `--app-port` with `--app-protocol grpc`). */
  grpcPort?: number;
  logger?: LoggerService | LogLevel[] | false;
}

/** The running example app and the addresses it listens on. */
export interface ExampleApp {
  app: INestApplication;
  httpUrl: string;
  grpcAddress: string;
}

/**
 * Starts the example app: HTTP on Express plus Dapr's gRPC AppCallback as a connected
 * microservice. `inheritAppConfig: true` is what makes the global DaprAuthGuard cover gRPC too.
 */
export async function startExampleApp(options: ExampleAppOptions = {}): Promise<ExampleApp> {
  const host = options.host ?? '127.0.0.1';
  // grpc-js logs a metadata value it refuses, before any guard runs: keep tokens out of that.
  redactDaprTokensInGrpcJsLogs(grpc);
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
  return { app, httpUrl: `http://${host}:${httpPort}`, grpcAddress: `${host}:${grpcPort}` };
}
