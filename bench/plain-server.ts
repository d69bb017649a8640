// One benchmark target without Nest: `node bench/dist/bench/plain-server.js <express|fastify> <variant> <port>`.
// A plain Express (5) or Fastify (5) app serving GET /orders/:id with the same answer as server.ts;
// only the check in front of the route differs:
//   plain-check  a minimal inline check: timingSafeEqual of the header against the token, 401 otherwise (the floor)
//   plain-dapr   nestjs-dapr-auth/standalone: daprAuthExpressMiddleware / daprAuthFastifyHook (logRejections: false)
// No Nest package is loaded: the standalone entry point is meant for apps that have none.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import Fastify, { type FastifyReply, type FastifyRequest, type HookHandlerDoneFunction } from 'fastify';
import { daprAuthExpressMiddleware, daprAuthFastifyHook } from 'nestjs-dapr-auth/standalone';
import { BENCH_TOKEN } from './bench-token.js';

const [target, variant, port] = process.argv.slice(2);
const ORDER = { id: '1', item: 'tea', quantity: 2 };
const UNAUTHORIZED = { message: 'Unauthorized', statusCode: 401 };
const TOKEN_BYTES = Buffer.from(BENCH_TOKEN);
const STANDALONE_OPTIONS = { token: BENCH_TOKEN, logRejections: false } as const;

/** The check an app writes itself: the header's bytes against the token's (timingSafeEqual needs equal lengths). */
function hasBenchToken(headers: IncomingHttpHeaders): boolean {
  const value = headers['dapr-api-token'];
  if (typeof value !== 'string') return false;
  const presented = Buffer.from(value);
  return presented.length === TOKEN_BYTES.length && timingSafeEqual(presented, TOKEN_BYTES);
}

function inlineExpressCheck(request: Request, response: Response, next: NextFunction): void {
  if (hasBenchToken(request.headers)) return next();
  response.status(401).json(UNAUTHORIZED);
}

// Callback style, as daprAuthFastifyHook: Fastify goes on at done().
function inlineFastifyCheck(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (hasBenchToken(request.headers)) return done();
  void reply.code(401).send(UNAUTHORIZED);
}

async function serveExpress(): Promise<void> {
  const app = express();
  app.use(variant === 'plain-dapr' ? daprAuthExpressMiddleware(STANDALONE_OPTIONS) : inlineExpressCheck);
  app.get('/orders/:id', (_request, response) => void response.json(ORDER));
  await new Promise<void>((resolve, reject) => app.listen(Number(port), '127.0.0.1', (error) => (error ? reject(error) : resolve())));
}

async function serveFastify(): Promise<void> {
  const app = Fastify({ logger: false });
  app.addHook('onRequest', variant === 'plain-dapr' ? daprAuthFastifyHook(STANDALONE_OPTIONS) : inlineFastifyCheck);
  app.get('/orders/:id', async () => ORDER);
  await app.listen({ port: Number(port), host: '127.0.0.1' });
}

if (!['plain-check', 'plain-dapr'].includes(variant)) throw new Error(`unknown variant ${variant}`);
if (target === 'express') await serveExpress();
else if (target === 'fastify') await serveFastify();
else throw new Error(`no plain server for target ${target}`);
process.stdout.write('READY\n');
process.on('SIGINT', () => process.exit(0));
