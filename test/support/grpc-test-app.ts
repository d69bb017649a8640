import { Controller, type INestMicroservice, Module, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, GrpcStreamCall, GrpcStreamMethod, type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { DaprAuthModule, DaprPublic, type DaprAuthModuleOptions } from 'nestjs-dapr-auth';
import { Observable, of, toArray, map } from 'rxjs';
import { grpcClient, grpcServerOptions } from './grpc.js';
import { testLogger } from './http.js';
import { freePort } from './ports.js';

/** Counts handler executions, so a test can prove a rejected call never ran its handler. */
export const handlerCalls = { count: 0 };

/** Dapr's AppCallback services, as a protected app implements them. */
@Controller()
export class TestAppCallbackController {
  @GrpcMethod('AppCallback', 'OnInvoke')
  onInvoke(request: { method: string }) {
    handlerCalls.count++;
    return { data: { typeUrl: '', value: Buffer.from(`invoked ${request.method}`) }, contentType: 'text/plain' };
  }

  @GrpcMethod('AppCallback', 'ListTopicSubscriptions')
  listTopicSubscriptions() {
    return { subscriptions: [{ pubsubName: 'pubsub', topic: 'orders' }] };
  }

  @GrpcMethod('AppCallback', 'ListInputBindings')
  listInputBindings() {
    return { bindings: ['cron'] };
  }

  @GrpcMethod('AppCallback', 'OnTopicEvent')
  onTopicEvent() {
    handlerCalls.count++;
    return { status: 'SUCCESS' };
  }

  @GrpcMethod('AppCallbackHealthCheck', 'HealthCheck')
  healthCheck() {
    return {};
  }

  @GrpcMethod('AppCallbackAlpha', 'OnJobEventAlpha1')
  @DaprPublic()
  onJobEvent() {
    return {};
  }
}

/** Every call shape Nest supports, on the test-only `Streaming` service. */
@Controller()
export class StreamingController {
  @GrpcMethod('Streaming', 'Unary')
  unary(message: { text: string }) {
    handlerCalls.count++;
    return { text: `unary ${message.text}` };
  }

  @GrpcMethod('Streaming', 'ServerStream')
  serverStream(message: { text: string }): Observable<{ text: string }> {
    handlerCalls.count++;
    return of({ text: `${message.text} 1` }, { text: `${message.text} 2` });
  }

  @GrpcStreamMethod('Streaming', 'ClientStreamRx')
  clientStreamRx(messages: Observable<{ text: string }>): Observable<{ text: string }> {
    handlerCalls.count++;
    return messages.pipe(
      toArray(),
      map((all) => ({ text: all.map((m) => m.text).join('+') })),
    );
  }

  @GrpcStreamMethod('Streaming', 'DuplexRx')
  duplexRx(messages: Observable<{ text: string }>): Observable<{ text: string }> {
    handlerCalls.count++;
    return messages.pipe(map((m) => ({ text: `echo ${m.text}` })));
  }

  @GrpcStreamCall('Streaming', 'ClientStreamCall')
  clientStreamCall(call: any, callback: (error: unknown, value: unknown) => void) {
    handlerCalls.count++;
    const texts: string[] = [];
    call.on('data', (m: { text: string }) => texts.push(m.text));
    call.on('end', () => callback(null, { text: texts.join('+') }));
  }

  @GrpcStreamCall('Streaming', 'DuplexCall')
  duplexCall(call: any) {
    handlerCalls.count++;
    call.on('data', (m: { text: string }) => call.write({ text: `echo ${m.text}` }));
    call.on('end', () => call.end());
  }
}

/** A module of the two controllers with the given DaprAuthModule registration. */
export function grpcTestModule(daprAuth: DynamicModule): DynamicModule {
  @Module({})
  class GrpcTestModule {}
  return { module: GrpcTestModule, imports: [daprAuth], controllers: [TestAppCallbackController, StreamingController] };
}

/** `module` as a pure gRPC Nest microservice (Dapr's AppCallback and the test streaming service) on a free loopback port. */
export async function startGrpcModule(module: DynamicModule | Type): Promise<{ app: INestMicroservice; address: string }> {
  const address = `127.0.0.1:${await freePort()}`;
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(module, {
    transport: Transport.GRPC,
    options: grpcServerOptions(address),
    logger: testLogger(),
    abortOnError: false,
  });
  await app.listen();
  return { app, address };
}

/** The test controllers as a pure gRPC microservice, guarded globally (unless `global: false`). */
export function startGrpcApp(options: DaprAuthModuleOptions & { global?: boolean }): Promise<{ app: INestMicroservice; address: string }> {
  return startGrpcModule(grpcTestModule(DaprAuthModule.forRoot({ global: true, ...options })));
}

/** startGrpcApp plus an AppCallback client on it; `close()` closes both. */
export async function startGrpcAppWithClient(options: DaprAuthModuleOptions & { global?: boolean }) {
  const { app, address } = await startGrpcApp(options);
  const client = grpcClient('AppCallback', address);
  return {
    app,
    address,
    client,
    close: async () => {
      client.close();
      await app.close();
    },
  };
}

/** A started gRPC app with AppCallback and Streaming clients on it; `close()` closes all three. */
export async function withGrpcClients(starting: Promise<{ app: INestMicroservice; address: string }>) {
  const { app, address } = await starting;
  const callback = grpcClient('AppCallback', address);
  const streaming = grpcClient('Streaming', address);
  return {
    app,
    callback,
    streaming,
    close: async () => {
      callback.close();
      streaming.close();
      await app.close();
    },
  };
}
