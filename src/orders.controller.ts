import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
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
}
