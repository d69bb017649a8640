// What DaprAuthModule (global: true) adds to an app's start-up, by the app's number of handlers:
// the same app of N generated controllers (one GET route each) started with the module and
// without it, in pairs measured back to back, each app from classes of its own (nothing cached
// from an earlier one). Start-up is NestFactory.create() and app.init(): the module does half of
// its work in its constructor, which Nest runs in create(), and the rest in onModuleInit, in init().
// `node --expose-gc bench/dist/bench/startup.js [--reps n] [--sizes 10,1000,5000]`; prints one JSON line.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { DaprAuthModule } from 'nestjs-dapr-auth';
import { BENCH_TOKEN } from './bench-token.js';
import { manyRoutes } from './guard-context.js';

const flag = (name: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const reps = Math.max(1, Number(flag('reps')) || 5);
const sizes = (flag('sizes') ?? '10,1000,5000').split(',').map(Number);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/** Milliseconds from NestFactory.create() to the end of app.init(), for a new app of `handlers` routes. */
async function startUpMs(handlers: number, withModule: boolean): Promise<number> {
  const controllers = manyRoutes(handlers);
  @Module({ imports: withModule ? [DaprAuthModule.forRoot({ global: true, token: BENCH_TOKEN, logRejections: false })] : [], controllers })
  class AppModule {}
  gc!(); // what the previous app left is not collected inside this one's timing
  const started = performance.now();
  const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
  await app.init();
  const elapsed = performance.now() - started;
  await app.close();
  return elapsed;
}

/**
 * `reps` pairs of start-ups, with and without the module, the pair's order alternated (the second
 * of a pair finds the heap the first left), after one pair not counted: the first apps of a new
 * size read up to 1.5× slower (V8 optimising the per-handler code, the heap growing to fit).
 */
async function measure(handlers: number): Promise<{ handlers: number; withModuleMs: number[]; withoutMs: number[] }> {
  await startUpMs(handlers, true);
  await startUpMs(handlers, false);
  const withModuleMs: number[] = [];
  const withoutMs: number[] = [];
  for (let pair = 0; pair < reps; pair++) {
    if (pair % 2 === 0) {
      withModuleMs.push(await startUpMs(handlers, true));
      withoutMs.push(await startUpMs(handlers, false));
    } else {
      withoutMs.push(await startUpMs(handlers, false));
      withModuleMs.push(await startUpMs(handlers, true));
    }
  }
  return { handlers, withModuleMs, withoutMs };
}

const results = [];
for (const handlers of sizes) results.push(await measure(handlers));
process.stdout.write(`${JSON.stringify({ reps, sizes: results })}\n`);
