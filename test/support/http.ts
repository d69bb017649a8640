import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { ConsoleLogger, type INestApplication, type DynamicModule, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

/** The two HTTP platforms every HTTP suite runs on, for `describe.each`. */
export const HTTP_PLATFORMS = [
  ['Express', () => new ExpressAdapter()],
  ['Fastify', () => new FastifyAdapter()],
] as const;

export type PlatformFactory = (typeof HTTP_PLATFORMS)[number][1];

/**
 * A logger instance for test apps. An instance, not a list of levels: `Test.createTestingModule`
 * replaces Nest's static logger with one that drops warnings, and a level list would not undo it.
 */
export function testLogger(logLevels: LogLevel[] = ['fatal', 'error', 'warn']): ConsoleLogger {
  return new ConsoleLogger('', { logLevels, colors: false });
}

/** Starts `module` on a real server on 127.0.0.1 (random port) with the given platform. */
export async function startHttpApp(module: DynamicModule | object, platform: PlatformFactory): Promise<{ app: INestApplication; baseUrl: string }> {
  const app = await NestFactory.create(module as never, platform() as never, { logger: testLogger(), abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app: app as INestApplication, baseUrl: `http://127.0.0.1:${address.port}` };
}

/** What came back from one request. */
export interface HttpOutcome {
  status: number;
  body: string;
  json?: unknown;
}

/**
 * A request with full control over the headers: an array value sends the header once per item
 * (what `fetch` cannot do).
 */
export function send(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {},
): Promise<HttpOutcome> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, { method: options.method ?? 'GET', headers: options.headers, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = body ? JSON.parse(body) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** Sends raw bytes as one HTTP/1.1 request (for header values no HTTP client will send) and returns the status. */
export function sendRaw(baseUrl: string, rawHead: Buffer): Promise<number> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(rawHead));
    const chunks: Buffer[] = [];
    const status = () => Number((Buffer.concat(chunks).toString('latin1').split('\r\n')[0] ?? '').split(' ')[1] ?? 0);
    socket.setTimeout(5000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // Node's HTTP parser stops reading a head past its limit (16 KiB), answers 431 and closes:
      // with the rest of the head unread, the kernel sends a reset, which can arrive before the
      // answer is read. That reset is the server refusing the request, not a failure of the test.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve(status() || CONNECTION_RESET);
      else reject(error);
    });
    socket.on('close', () => resolve(status()));
  });
}

/** What {@link sendRaw} resolves when the server reset the connection before its answer could be read. */
export const CONNECTION_RESET = -1;
