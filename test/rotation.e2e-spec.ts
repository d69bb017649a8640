import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { jest } from '@jest/globals';
import { DAPR_TOKEN_SOURCE, FileTokenSource, type DaprAuthModuleOptions } from 'nestjs-dapr-auth';
import { KubeletAtomicWriter } from './support/atomic-writer.js';
import { callUnary, tokenMetadata } from './support/grpc.js';
import { startGrpcAppWithClient } from './support/grpc-test-app.js';
import { HTTP_PLATFORMS, send, startHttpApp } from './support/http.js';
import { httpTestModuleWith } from './support/http-test-app.js';
import { registerSecret } from './support/secrets.js';
import { WRONG_TOKEN } from './support/tokens.js';

/**
 * Zero-downtime rotation, the way Kubernetes does it: the token file is a Secret volume written by
 * (an exact copy of) the kubelet's atomic writer, rotated twice while HTTP (Express, Fastify) and
 * gRPC clients keep calling with a random mix of the old, current, next and a wrong token.
 *
 * The oracle, per request, from the moments each swap was written:
 * - a token is surely accepted from one poll interval after its swap until the grace period after
 *   the next swap, less a margin;
 * - it is surely rejected before its swap, and after the next swap plus the grace period plus one
 *   poll interval, plus a margin; in between either answer is right;
 * - the wrong token is always rejected; nothing ever answers 5xx or fails.
 */
const POLL_INTERVAL = 400;
const GRACE_PERIOD = 1500;
const MARGIN = 400; // generous: CI machines are slow and shared
// Random-looking, so that no 8 characters of one appear in ordinary log text (the leak check).
const TOKENS = ['r0Kq9fT2mQx7LpV3nB8wR4tY6uE1sD5gH0jC2aZyW', 'r1Jd8eS1lPw6KoU2mA7vQ3sX5tD0rC4fG9iB1zYxV', 'r2Hc7dR0kOv5JnT1lZ6uP2rW4sC9qB3eF8hA0yXwU'];
registerSecret(...TOKENS);

type Transport = 'Express' | 'Fastify' | 'gRPC';
interface Outcome {
  transport: Transport;
  token: string;
  sentAt: number;
  doneAt: number;
  accepted: boolean;
  failure?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('token rotation through a Kubernetes Secret volume, under load', () => {
  let dir: string;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dapr-rotation-'));
  });

  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts every token valid at that moment, rejects every other, and never errs', async () => {
    const writer = new KubeletAtomicWriter(dir);
    writer.write({ token: `${TOKENS[0]}\n` });
    const options: DaprAuthModuleOptions & { global: boolean } = {
      global: true,
      tokenFile: writer.tokenPath,
      tokenFilePollInterval: POLL_INTERVAL,
      tokenFileGracePeriod: GRACE_PERIOD,
      logRejections: false, // thousands of expected rejections
    };

    const callers: Array<[Transport, (token: string) => Promise<{ accepted: boolean; failure?: string }>]> = [];
    for (const [name, platform] of HTTP_PLATFORMS) {
      const { app, baseUrl } = await startHttpApp(httpTestModuleWith(options), platform);
      closers.push(() => (app as INestApplication).close());
      callers.push([
        name,
        async (token) => {
          const { status } = await send(baseUrl, '/plain', { headers: { 'dapr-api-token': token } });
          return { accepted: status === 200, failure: status === 200 || status === 401 ? undefined : `HTTP ${status}` };
        },
      ]);
    }
    const { client, close } = await startGrpcAppWithClient(options);
    closers.push(close);
    callers.push([
      'gRPC',
      async (token) => {
        const { code } = await callUnary(client, 'OnInvoke', { method: 'rotation' }, tokenMetadata(token));
        return { accepted: code === 0, failure: code === 0 || code === 16 ? undefined : `gRPC status ${code}` };
      },
    ]);

    const outcomes: Outcome[] = [];
    let running = true;
    const presented = [...TOKENS, WRONG_TOKEN];
    const worker = async (transport: Transport, call: (token: string) => Promise<{ accepted: boolean; failure?: string }>) => {
      while (running) {
        const token = presented[Math.floor(Math.random() * presented.length)];
        const sentAt = Date.now();
        const result = await call(token).catch((error: Error) => ({ accepted: false, failure: error.message }));
        outcomes.push({ transport, token, sentAt, doneAt: Date.now(), ...result });
      }
    };
    const workers = callers.flatMap(([transport, call]) => Array.from({ length: 4 }, () => worker(transport, call)));

    // Swap times: token i is in the file from swaps[i] on.
    const swaps = [0];
    await sleep(800);
    writer.write({ token: TOKENS[1] });
    swaps.push(Date.now());
    await sleep(GRACE_PERIOD + POLL_INTERVAL + 2 * MARGIN + 500);
    writer.write({ token: `${TOKENS[2]}\n` });
    swaps.push(Date.now());
    await sleep(GRACE_PERIOD + POLL_INTERVAL + 2 * MARGIN + 500);
    running = false;
    await Promise.all(workers);

    const verdicts = { surelyAccepted: 0, surelyRejected: 0, either: 0 };
    const wrong: string[] = [];
    for (const outcome of outcomes) {
      if (outcome.failure) {
        wrong.push(`${outcome.transport}: ${outcome.failure}`);
        continue;
      }
      const i = TOKENS.indexOf(outcome.token);
      let expected: boolean | undefined;
      if (i < 0) expected = false;
      else {
        const from = swaps[i];
        const until = swaps[i + 1];
        if (outcome.doneAt < from) expected = false;
        else if (outcome.sentAt >= from + (i === 0 ? 0 : POLL_INTERVAL + MARGIN) && (until === undefined || outcome.doneAt <= until + GRACE_PERIOD - MARGIN))
          expected = true;
        else if (until !== undefined && outcome.sentAt >= until + GRACE_PERIOD + POLL_INTERVAL + MARGIN) expected = false;
      }
      if (expected === undefined) verdicts.either++;
      else if (expected !== outcome.accepted)
        wrong.push(`${outcome.transport}: token #${i} ${outcome.accepted ? 'accepted' : 'rejected'} at +${outcome.sentAt - swaps[1]} ms from the first swap`);
      else if (expected) verdicts.surelyAccepted++;
      else verdicts.surelyRejected++;
    }

    process.stdout.write(`rotation: ${outcomes.length} requests, ${JSON.stringify(verdicts)}\n`);
    expect(wrong).toEqual([]);
    // The run must have exercised every case, on every transport.
    for (const transport of ['Express', 'Fastify', 'gRPC'] as const) {
      expect(outcomes.filter((outcome) => outcome.transport === transport).length).toBeGreaterThan(100);
    }
    expect(verdicts.surelyAccepted).toBeGreaterThan(100);
    expect(verdicts.surelyRejected).toBeGreaterThan(100);

    // Each new token was accepted within a poll interval (plus scheduling) of its swap.
    for (const i of [1, 2]) {
      const firstAccepted = Math.min(...outcomes.filter((o) => o.token === TOKENS[i] && o.accepted).map((o) => o.doneAt));
      expect(firstAccepted - swaps[i]).toBeLessThanOrEqual(POLL_INTERVAL + MARGIN);
    }
  });

  it('stops following the file when the application shuts down', async () => {
    const writer = new KubeletAtomicWriter(mkdtempSync(join(dir, 'shutdown-')));
    writer.write({ token: TOKENS[0] });
    const [, express] = HTTP_PLATFORMS[0];
    const { app } = await startHttpApp(httpTestModuleWith({ global: true, tokenFile: writer.tokenPath }), express);
    const source = app.get(DAPR_TOKEN_SOURCE);
    expect(source).toBeInstanceOf(FileTokenSource);
    const close = jest.spyOn(source as FileTokenSource, 'close');
    await app.close();
    expect(close).toHaveBeenCalledTimes(1);
    const readBefore = (source as FileTokenSource).status().lastGoodReadAt;
    writer.write({ token: TOKENS[1] });
    await sleep(100);
    // No watcher or timer left behind; the next use after a restart reads the file again (FileTokenSource spec).
    expect((source as FileTokenSource).status().lastGoodReadAt).toBe(readBefore);
    (source as FileTokenSource).close();
  });
});
