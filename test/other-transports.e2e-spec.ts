import { Controller, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, type MicroserviceOptions, Transport, type ClientProxy } from '@nestjs/microservices';
import { DaprAuthModule, type DaprAuthModuleOptions } from 'nestjs-dapr-auth';
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
