import { Body, Controller, Delete, HttpCode, NotFoundException, Param, Put } from '@nestjs/common';
import { OrdersService } from './orders.service.js';

/** The actor type the example app hosts; `GET /dapr/config` lists it. */
export const ORDER_ACTOR_TYPE = 'OrderActor';

/**
 * A Dapr actor hosted over HTTP, with no SDK: daprd calls these routes (always with the token) to
 * run actor methods, timers and reminders, and to deactivate an idle actor. The global
 * DaprAuthGuard checks each like any other route. Each actor keeps a list of items in memory (a
 * real actor would save it with daprd's actor state API).
 *
 * Try it with daprd running next to the app (`npm run start:dapr`, which starts placement and
 * scheduler too): `curl -X PUT localhost:3500/v1.0/actors/OrderActor/42/method/addItem -d '{"item":"tea"}'`.
 */
@Controller('actors')
export class OrderActorController {
  private readonly actors = new Map<string, string[]>();

  constructor(private readonly orders: OrdersService) {}

  /** A timer fired: `POST /v1.0/actors/OrderActor/{id}/timers/{name}` set it up. */
  @Put(':type/:id/method/timer/:name')
  @HttpCode(200)
  timer(@Param('type') type: string, @Param('id') id: string, @Param('name') name: string, @Body() body: unknown) {
    this.checkType(type);
    this.orders.record('actor-timer', { id, name, body });
    return {};
  }

  /** A reminder fired (kept by the scheduler since Dapr 1.15): `POST /v1.0/actors/OrderActor/{id}/reminders/{name}` set it up. */
  @Put(':type/:id/method/remind/:name')
  @HttpCode(200)
  reminder(@Param('type') type: string, @Param('id') id: string, @Param('name') name: string, @Body() body: unknown) {
    this.checkType(type);
    this.orders.record('actor-reminder', { id, name, body });
    return {};
  }

  /** An actor method: `addItem` (body `{"item": "tea"}`) appends to the actor's list; `items` returns it. */
  @Put(':type/:id/method/:method')
  @HttpCode(200)
  invoke(@Param('type') type: string, @Param('id') id: string, @Param('method') method: string, @Body() body: { item?: string } | undefined) {
    this.checkType(type);
    const items = this.actors.get(id) ?? [];
    this.actors.set(id, items);
    this.orders.record('actor-method', { id, method });
    if (method === 'addItem') items.push(body?.item ?? 'unknown');
    else if (method !== 'items') throw new NotFoundException(`${ORDER_ACTOR_TYPE} has no method ${method}`);
    return { id, items };
  }

  /** daprd deactivates an actor after `actorIdleTimeout` without calls (see `GET /dapr/config`). */
  @Delete(':type/:id')
  @HttpCode(200)
  deactivate(@Param('type') type: string, @Param('id') id: string) {
    this.checkType(type);
    this.actors.delete(id);
    this.orders.record('actor-deactivated', { id });
    return {};
  }

  private checkType(type: string): void {
    if (type !== ORDER_ACTOR_TYPE) throw new NotFoundException(`This app hosts no actor type ${type}`);
  }
}
