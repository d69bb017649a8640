import { Body, Controller, Get, HttpCode, Options, Param, Post } from '@nestjs/common';
import { DaprPublic } from 'nestjs-dapr-auth';
import { ORDER_ACTOR_TYPE } from './order-actor.controller.js';
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

  /**
   * Actor and app configuration: daprd calls this at start, with the token. A daprd whose token is
   * refused here hosts no actors for this app, so it never calls /actors/... at all.
   * `ACTOR_IDLE_TIMEOUT` (a Go duration, default 1h): how long an idle actor stays active.
   */
  @Get('dapr/config')
  config() {
    return { entities: [ORDER_ACTOR_TYPE], actorIdleTimeout: process.env.ACTOR_IDLE_TIMEOUT || '1h' };
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

  /** A job scheduled through daprd's Jobs API (`POST /v1.0-alpha1/jobs/{name}`) is due: daprd calls this, with the token. */
  @Post('job/:name')
  @HttpCode(200)
  onJob(@Param('name') name: string, @Body() data: unknown) {
    this.orders.record('job', { name, data });
    return {};
  }

  /** daprd's app health probe (`--app-health-check-path`, default /healthz): sent without a token. */
  @Get('healthz')
  @DaprPublic()
  health() {
    return { status: 'ok' };
  }
}
