import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { DaprCaller, type DaprCallerIdentity, DaprCallers } from 'nestjs-dapr-auth';
import { OrdersService, type Order } from './orders.service.js';

/**
 * Service invocation endpoints: another Dapr app calls them through its sidecar with
 * `POST /v1.0/invoke/orders/method/orders`. The global DaprAuthGuard protects them.
 */
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @HttpCode(201)
  create(@Body() body: { item?: string; quantity?: number }): Order {
    return this.orders.create(body.item ?? 'unknown', body.quantity ?? 1);
  }

  @Get(':id')
  get(@Param('id') id: string): Order {
    const order = this.orders.get(id);
    if (!order) throw new NotFoundException(`Order ${id} not found`);
    return order;
  }

  /**
   * Only the `checkout` app may cancel an order (`POST /v1.0/invoke/orders/method/orders/1/cancel`
   * from checkout's sidecar); any other caller, pub/sub and bindings get 403.
   */
  @Post(':id/cancel')
  @HttpCode(200)
  @DaprCallers('checkout')
  cancel(@Param('id') id: string, @DaprCaller() caller: DaprCallerIdentity | undefined): Order & { cancelledBy: string | undefined } {
    // undefined only in report-only mode, for a call enforcing would have refused.
    const order = this.get(id);
    return { ...order, cancelledBy: caller?.appId };
  }
}
