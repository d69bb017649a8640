import { Injectable } from '@nestjs/common';

/** An order as the example app stores it. */
export interface Order {
  id: string;
  item: string;
  quantity: number;
  source: 'invoke' | 'pubsub' | 'binding' | 'grpc';
}

/** In-memory store shared by the HTTP and gRPC handlers of the example app. */
@Injectable()
export class OrdersService {
  private readonly orders = new Map<string, Order>();
  private readonly events: Array<{ kind: string; payload: unknown }> = [];

  create(item: string, quantity: number, source: Order['source'] = 'invoke'): Order {
    const order: Order = { id: String(this.orders.size + 1), item, quantity, source };
    this.orders.set(order.id, order);
    return order;
  }

  get(id: string): Order | undefined {
    return this.orders.get(id);
  }

  record(kind: string, payload: unknown): void {
    this.events.push({ kind, payload });
  }

  /** What pub/sub and bindings delivered, newest last. */
  recorded(): ReadonlyArray<{ kind: string; payload: unknown }> {
    return this.events;
  }
}
