import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { INPUT_BINDING_NAME, ORDERS_TOPIC, PUBSUB_NAME } from './dapr.controller.js';
import { OrdersService } from './orders.service.js';

interface Any {
  typeUrl?: string;
  value?: Buffer;
}

/**
 * Dapr's gRPC `AppCallback`, `AppCallbackAlpha` (jobs) and `AppCallbackHealthCheck` services (`appcallback.proto` from the
 * `@dapr/dapr` package), for `dapr run --app-protocol grpc`. The global DaprAuthGuard checks every
 * call; `HealthCheck`, `ListTopicSubscriptions` and `ListInputBindings` arrive without a token
 * and are exempt by default.
 */
@Controller()
export class AppCallbackController {
  constructor(private readonly orders: OrdersService) {}

  @GrpcMethod('AppCallback', 'OnInvoke')
  onInvoke(request: { method: string; data?: Any; contentType?: string }) {
    const body = request.data?.value?.length ? JSON.parse(request.data.value.toString('utf8')) : {};
    const result =
      request.method === 'orders' ? this.orders.create(body.item ?? 'unknown', body.quantity ?? 1, 'grpc') : { error: `unknown method ${request.method}` };
    return { data: { typeUrl: '', value: Buffer.from(JSON.stringify(result)) }, contentType: 'application/json' };
  }

  @GrpcMethod('AppCallback', 'ListTopicSubscriptions')
  listTopicSubscriptions() {
    return { subscriptions: [{ pubsubName: PUBSUB_NAME, topic: ORDERS_TOPIC }] };
  }

  @GrpcMethod('AppCallback', 'OnTopicEvent')
  onTopicEvent(event: { id: string; topic: string; data?: Buffer }) {
    this.orders.record('pubsub', { id: event.id, topic: event.topic, data: event.data?.toString('utf8') });
    return { status: 'SUCCESS' };
  }

  @GrpcMethod('AppCallback', 'OnBulkTopicEvent')
  onBulkTopicEvent(request: { entries?: Array<{ entryId: string }> }) {
    this.orders.record('pubsub-bulk', request.entries?.length ?? 0);
    return { statuses: (request.entries ?? []).map((entry) => ({ entryId: entry.entryId, status: 'SUCCESS' })) };
  }

  @GrpcMethod('AppCallback', 'ListInputBindings')
  listInputBindings() {
    return { bindings: [INPUT_BINDING_NAME] };
  }

  @GrpcMethod('AppCallback', 'OnBindingEvent')
  onBindingEvent(event: { name: string; data?: Buffer }) {
    this.orders.record('binding', { name: event.name, data: event.data?.toString('utf8') });
    return {};
  }

  /** A job scheduled through daprd's Jobs API is due (the gRPC form of `POST /job/{name}`); with the token since daprd v1.16.2. */
  @GrpcMethod('AppCallbackAlpha', 'OnJobEventAlpha1')
  onJobEvent(event: { name: string; data?: Any }) {
    this.orders.record('job', { name: event.name, data: event.data?.value?.toString('utf8') });
    return {};
  }

  @GrpcMethod('AppCallbackHealthCheck', 'HealthCheck')
  healthCheck() {
    return {};
  }
}
