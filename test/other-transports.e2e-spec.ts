import { Controller, type INestApplication, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, type MicroserviceOptions, Transport, type ClientProxy } from '@nestjs/microservices';
import { WsAdapter } from '@nestjs/platform-ws';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { DaprAuthModule, type DaprAuthModuleOptions } from 'nestjs-dapr-auth';
import { WebSocket } from 'ws';
import { firstValueFrom } from 'rxjs';
import { testLogger } from './support/http.js';
import { freePort } from './support/ports.js';
import { capturedOutput } from './support/secrets.js';
import { TOKEN, WRONG_TOKEN } from './support/tokens.js';

@Controller()
class TcpController {
  @MessagePattern('ping')
  ping(data: { token?: string; value: string }) {
    return `pong ${data.value}`;
  }
}

/** A TCP microservice (no external server needed) behind the global guard. */
async function startTcp(options: DaprAuthModuleOptions): Promise<{ app: INestMicroservice; client: ClientProxy }> {
  @Module({ imports: [DaprAuthModule.forRoot({ ...options, global: true })], controllers: [TcpController] })
  class TcpModule {}
  const port = await freePort();
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(TcpModule, {
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
    logger: testLogger(),
    abortOnError: false,
  });
  await app.listen();
  const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
  await client.connect();
  return { app, client };
}

describe('execution contexts without a built-in adapter (TCP microservice)', () => {
  let running: { app: INestMicroservice; client: ClientProxy } | undefined;
  afterEach(async () => {
    running?.client.close();
    await running?.app.close();
    running = undefined;
  });

  it('fails closed, even with the right token in the payload, and says once how to fix it', async () => {
    running = await startTcp({ token: TOKEN });
    for (let i = 0; i < 2; i++) {
      await expect(firstValueFrom(running.client.send('ping', { token: TOKEN, value: 'a' }))).rejects.toMatchObject({ message: 'Forbidden resource' });
    }
    const output = capturedOutput();
    expect(output).toContain("cannot read a Dapr token in 'rpc' execution contexts");
    expect(output).toContain('extractToken');
    expect(output.split("cannot read a Dapr token in 'rpc'").length - 1).toBe(1);
  });

  it('a custom extractToken makes the transport work, with the same verification', async () => {
    running = await startTcp({
      token: TOKEN,
      extractToken: (context) => context.switchToRpc().getData<{ token?: string }>().token,
    });
    await expect(firstValueFrom(running.client.send('ping', { token: TOKEN, value: 'a' }))).resolves.toBe('pong a');
    await expect(firstValueFrom(running.client.send('ping', { token: WRONG_TOKEN, value: 'a' }))).rejects.toMatchObject({ message: 'Forbidden resource' });
    await expect(firstValueFrom(running.client.send('ping', { value: 'a' }))).rejects.toMatchObject({ message: 'Forbidden resource' });
    expect(capturedOutput()).toMatch(/Rejected other \(rpc\) TcpController\.ping: token mismatch/);
  });

  it('an extractToken that throws on bad input ends in a rejection, not an internal error', async () => {
    running = await startTcp({
      token: TOKEN,
      // Throws a TypeError when the payload has no `auth` object.
      extractToken: (context) => context.switchToRpc().getData<{ auth: { token: string } }>().auth.token,
    });
    await expect(firstValueFrom(running.client.send('ping', { value: 'a' }))).rejects.toMatchObject({ message: 'Forbidden resource' });
    await expect(firstValueFrom(running.client.send('ping', { auth: { token: TOKEN }, value: 'b' }))).resolves.toBe('pong b');
    expect(capturedOutput()).toContain('The extractToken option threw TypeError');
  });
});

@WebSocketGateway({ path: '/ws' })
class OrdersGateway {
  @SubscribeMessage('orders')
  onOrder(@MessageBody() data: { token?: string; item?: string }) {
    return { event: 'order', data: `ordered ${data.item}` };
  }
}

/** A WebSocket gateway (platform-ws) on a real HTTP server, behind the global guard. */
async function startGateway(options: DaprAuthModuleOptions): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [DaprAuthModule.forRoot({ ...options, global: true })], providers: [OrdersGateway] })
  class GatewayModule {}
  const app = await NestFactory.create(GatewayModule, { logger: testLogger(), abortOnError: false });
  app.useWebSocketAdapter(new WsAdapter(app));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `ws://127.0.0.1:${port}/ws` };
}

/** Sends one message and resolves with the first reply: the gateway's answer or Nest's WsException error. */
async function sendOverWebSocket(url: string, data: object): Promise<unknown> {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  try {
    const reply = new Promise((resolve) => socket.once('message', (raw) => resolve(JSON.parse(raw.toString()))));
    socket.send(JSON.stringify({ event: 'orders', data }));
    return await Promise.race([reply, new Promise((resolve) => setTimeout(() => resolve('no reply within 2 s'), 2000))]);
  } finally {
    socket.close();
  }
}

describe('execution contexts without a built-in adapter (WebSocket gateway)', () => {
  let running: { app: INestApplication; url: string } | undefined;
  afterEach(async () => {
    await running?.app.close();
    running = undefined;
  });

  it('fails closed, even with the right token in the message, and says once how to fix it', async () => {
    running = await startGateway({ token: TOKEN });
    for (let i = 0; i < 2; i++) {
      // Nest's WebSocket exception filter answers with an 'exception' event. (Its `cause` echoes the
      // message back to the client that sent it, token field included: Nest's behaviour, see SECURITY.md.)
      const reply = await sendOverWebSocket(running.url, { token: TOKEN, item: 'tea' });
      expect(reply).toMatchObject({ event: 'exception', data: { status: 'error', message: 'Forbidden resource' } });
    }
    const output = capturedOutput();
    expect(output).toContain("cannot read a Dapr token in 'ws' execution contexts");
    expect(output.split("cannot read a Dapr token in 'ws'").length - 1).toBe(1);
  });

  it('a custom extractToken makes the gateway work, with the same verification', async () => {
    running = await startGateway({
      token: TOKEN,
      extractToken: (context) => context.switchToWs().getData<{ token?: string }>().token,
    });
    await expect(sendOverWebSocket(running.url, { token: TOKEN, item: 'tea' })).resolves.toEqual({ event: 'order', data: 'ordered tea' });
    await expect(sendOverWebSocket(running.url, { token: WRONG_TOKEN, item: 'tea' })).resolves.toMatchObject({
      event: 'exception',
      data: { message: 'Forbidden resource' },
    });
    expect(capturedOutput()).toMatch(/Rejected other \(ws\) OrdersGateway\.onOrder: token mismatch/);
  });
});
