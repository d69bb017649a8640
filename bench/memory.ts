// Heap and RSS after one million guard calls, half with the right token and half with a wrong
// one, then after a second million: caches are bounded, so the second million adds nothing.
// `node --expose-gc bench/dist/bench/memory.js [--calls n]`; prints one JSON line.
import { BENCH_TOKEN, WRONG_TOKEN } from './bench-token.js';
import { check, createGuard, httpContext } from './guard-context.js';

const calls = Number(process.argv[process.argv.indexOf('--calls') + 1]) || 1_000_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const { guard, close } = await createGuard();

function measure() {
  for (let i = 0; i < 3; i++) gc!();
  const usage = process.memoryUsage();
  return { heapUsedMB: usage.heapUsed / 2 ** 20, rssMB: usage.rss / 2 ** 20 };
}
function run(n: number): number {
  let accepted = 0;
  for (let i = 0; i < n; i++) {
    // A new request object per call, as Nest gives the guard.
    if (check(guard, httpContext({ 'dapr-api-token': i % 2 === 0 ? BENCH_TOKEN : WRONG_TOKEN }))) accepted++;
  }
  return accepted;
}

run(10_000); // warm-up
const before = measure();
const acceptedFirst = run(calls);
const afterFirst = measure();
const acceptedSecond = run(calls);
const afterSecond = measure();
await close();
if (acceptedFirst !== calls / 2 || acceptedSecond !== calls / 2) throw new Error('the guard does not behave as expected');
process.stdout.write(`${JSON.stringify({ calls, before, afterFirst, afterSecond })}\n`);
