// A Fastify app as a user builds it on the packed library (no TypeScript, decorators applied by
// hand): `node server.mjs <throw|dapr|dapr-quiet> <port>`. GET /orders/1 behind one global guard:
//   throw       a guard that throws one ready-made 401 unless the right token comes (the floor)
//   dapr        DaprAuthModule.forRoot({ global: true, token }) with every other option at its default
//   dapr-quiet  the same with logRejections: false
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, UnauthorizedException } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DaprAuthModule } from 'nestjs-dapr-auth';

export const RIGHT_TOKEN = 'right-token-0123456789abcdef';
const [variant, port] = process.argv.slice(2);

class OrdersController {
  get() {
    return { id: '1', item: 'tea', quantity: 2 };
  }
}
Get(':id')(OrdersController.prototype, 'get', Object.getOwnPropertyDescriptor(OrdersController.prototype, 'get'));
Controller('orders')(OrdersController);

const READY_UNAUTHORIZED = new UnauthorizedException();
// Returns for the right token (the warm-up sends it), so that V8 optimises it.
class ThrowingGuard {
  canActivate(context) {
    if (context.switchToHttp().getRequest().headers['dapr-api-token'] === RIGHT_TOKEN) return true;
    throw READY_UNAUTHORIZED;
  }
}
Injectable()(ThrowingGuard);

const metadata = {
  throw: { providers: [{ provide: APP_GUARD, useClass: ThrowingGuard }] },
  dapr: { imports: [DaprAuthModule.forRoot({ global: true, token: RIGHT_TOKEN })] },
  'dapr-quiet': { imports: [DaprAuthModule.forRoot({ global: true, token: RIGHT_TOKEN, logRejections: false })] },
}[variant];
if (!metadata) throw new Error(`unknown variant ${variant}`);
class AppModule {}
Module({ ...metadata, controllers: [OrdersController] })(AppModule);

// Nest's default logger where the rejection log is on, as in an app; none otherwise.
const app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: variant === 'dapr' ? undefined : false });
await app.listen(Number(port), '127.0.0.1');
process.stdout.write('READY\n');
process.on('SIGINT', () => process.exit(0));
