import { Body, Controller, Get, HttpCode, Options, Post } from '@nestjs/common';
import { DaprPublic } from 'nestjs-dapr-auth';
import { OrdersService } from './orders.service.js';

/** Pub/sub component, topic and route the example subscribes to (programmatically). */
export const PUBSUB_NAME = process.env.PUBSUB_NAME ?? 'pubsub';
export const ORDERS_TOPIC = 'orders';
export const INPUT_BINDING_NAME = 'cron';

/**
 * The routes daprd itself calls on an HTTP app. All carry the token except the health probe,
 * which the guard exempts by default (here `@DaprPublic()` also documents it for readers).
 */
@Controller()
export class DaprController {
  constructor(private readonly orders: OrdersService) {}

  /** Programmatic subscriptions: daprd calls this once at start, with the token. */
  @Get('dapr/subscribe')
  subscribe() {
    return [{ pubsubname: PUBSUB_NAME, topic: ORDERS_TOPIC, route: '/events/orders' }];
  }

  /** Actor and app configuration: daprd calls this at start, with the token. */
  @Get('dapr/config')
  config() {
    return { entities: [] };
  }

  /** Pub/sub delivery (a CloudEvent). Returning SUCCESS acknowledges the message. */
  @Post('events/orders')
  @HttpCode(200)
  onOrderEvent(@Body() event: { id?: string; data?: { item?: string; quantity?: number } } | undefined) {
    this.orders.record('pubsub', event);
    if (event?.data?.item) this.orders.create(event.data.item, event.data.quantity ?? 1, 'pubsub');
    return { status: 'SUCCESS' };
  }

  /** Input binding: daprd probes the route with OPTIONS at start, then POSTs each event. */
  @Options(INPUT_BINDING_NAME)
  @HttpCode(200)
  probeBinding() {
    return '';
  }

  @Post(INPUT_BINDING_NAME)
  @HttpCode(200)
  onBinding(@Body() payload: unknown) {
    this.orders.record('binding', payload);
    return {};
  }

  /** daprd's app health probe (`--app-health-check-path`, default /healthz): sent without a token. */
  @Get('healthz')
  @DaprPublic()
  health() {
    return { status: 'ok' };
  }
}
