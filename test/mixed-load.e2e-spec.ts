import { Agent, request as httpRequest } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { INestApplication } from '@nestjs/common';
import { callUnary, grpc, tokenMetadata } from './support/grpc.js';
import { startGrpcAppWithClient } from './support/grpc-test-app.js';
import { HTTP_PLATFORMS, startHttpApp } from './support/http.js';
import { httpTestModuleWith } from './support/http-test-app.js';
import { PREVIOUS_TOKEN, TOKEN, WRONG_TOKEN } from './support/tokens.js';

/**
 * Mixed traffic under load: 64 concurrent clients per transport (Express, Fastify, gRPC), half the
 * requests valid and half invalid, in random order. Zero false accepts, zero false rejects, no
 * errors, and the heap after the run is where it was after the warm-up.
 *
 * `npm test` sends 12,000 requests in all; `MIXED_LOAD_REQUESTS=100000 npm test -- test/mixed-load`
 * runs the full size (100,000 split over the three transports).
 */
const TOTAL = Number(process.env.MIXED_LOAD_REQUESTS ?? 12_000);
const CONCURRENCY = 64;
const ACCEPTED = [TOKEN, PREVIOUS_TOKEN];
/** What an attacker or a misconfigured sidecar sends. */
const INVALID: Array<string | string[] | undefined> = [undefined, '', WRONG_TOKEN, TOKEN.slice(0, -1), `${TOKEN}x`, [TOKEN, TOKEN], 'x'.repeat(5000)];

interface Tally {
  requests: number;
  falseAccepts: number;
  falseRejects: number;
  errors: string[];
}

/** Runs `total` calls through `concurrency` workers, each call valid or not at random. */
async function drive(total: number, call: (token: string | string[] | undefined) => Promise<'accepted' | 'rejected' | string>): Promise<Tally> {
  const tally: Tally = { requests: 0, falseAccepts: 0, falseRejects: 0, errors: [] };
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const valid = Math.random() < 0.5;
      const token = valid ? ACCEPTED[Math.floor(Math.random() * ACCEPTED.length)] : INVALID[Math.floor(Math.random() * INVALID.length)];
      const outcome = await call(token).catch((error: Error) => error.message);
      tally.requests++;
      if (outcome === 'accepted' && !valid) tally.falseAccepts++;
      else if (outcome === 'rejected' && valid) tally.falseRejects++;
      else if (outcome !== 'accepted' && outcome !== 'rejected' && tally.errors.length < 5) tally.errors.push(outcome);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return tally;
}

// A real garbage collection, without a command-line flag (Jest's test context has no global gc).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe('mixed valid and invalid traffic under load', () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it(`${TOTAL} requests over Express, Fastify and gRPC, ${CONCURRENCY} concurrent clients each: no wrong answer, no error, flat memory`, async () => {
    const callers: Array<[string, (token: string | string[] | undefined) => Promise<string>]> = [];
    for (const [name, platform] of HTTP_PLATFORMS) {
      const { app, baseUrl } = await startHttpApp(httpTestModuleWith({ token: ACCEPTED, global: true, logRejections: false }), platform);
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      closers.push(async () => {
        agent.destroy();
        await (app as INestApplication).close();
      });
      callers.push([
        name,
        (token) =>
          new Promise((resolve, reject) => {
            const headers = token === undefined ? {} : { 'dapr-api-token': token };
            const req = httpRequest(`${baseUrl}/plain`, { agent, headers, timeout: 10_000 }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode === 200 ? 'accepted' : res.statusCode === 401 ? 'rejected' : `HTTP ${res.statusCode}`));
            });
            req.on('timeout', () => req.destroy(new Error('timed out')));
            req.on('error', reject);
            req.end();
          }),
      ]);
    }
    const { client, close } = await startGrpcAppWithClient({ token: ACCEPTED, logRejections: false });
    closers.push(close);
    callers.push([
      'gRPC',
      async (token) => {
        const metadata = token === undefined ? new grpc.Metadata() : tokenMetadata(...(Array.isArray(token) ? token : [token]));
        const { code } = await callUnary(client, 'OnInvoke', { method: 'load' }, metadata);
        return code === 0 ? 'accepted' : code === 16 ? 'rejected' : `gRPC status ${code}`;
      },
    ]);

    // Warm-up, then the measured run.
    await Promise.all(callers.map(([, call]) => drive(300, call)));
    const heapBefore = heapAfterGc();
    const perTransport = Math.ceil(TOTAL / callers.length);
    const results = await Promise.all(callers.map(async ([name, call]) => [name, await drive(perTransport, call)] as const));
    const heapGrowthMB = (heapAfterGc() - heapBefore) / 2 ** 20;

    for (const [name, tally] of results) {
      expect({ name, requests: tally.requests, falseAccepts: tally.falseAccepts, falseRejects: tally.falseRejects, errors: tally.errors }).toEqual({
        name,
        requests: perTransport,
        falseAccepts: 0,
        falseRejects: 0,
        errors: [],
      });
    }
    process.stdout.write(`mixed load: ${perTransport * callers.length} requests, heap growth ${heapGrowthMB.toFixed(2)} MB after GC\n`);
    // Flat: nothing per request is kept (the bound leaves room for Nest's and grpc-js's own caches).
    expect(heapGrowthMB).toBeLessThan(8);
  }, 600_000);
});
