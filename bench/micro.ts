// The guard's canActivate per path, in ns per call (tinybench), against a no-op guard.
// `node bench/dist/bench/micro.js [--time ms]`; prints one JSON line.
import { UnauthorizedException } from '@nestjs/common';
import { Bench } from 'tinybench';
import { BENCH_TOKEN, WRONG_TOKEN } from './bench-token.js';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { check, checkAsync, createGuard, httpContext, PREVIOUS_BENCH_TOKEN } from './guard-context.js';

const time = Number(process.argv[process.argv.indexOf('--time') + 1]) || 1500;
const { guard, close } = await createGuard();
// During a rotation (tokenFile's grace period) two tokens are accepted and both are compared.
const rotating = await createGuard([BENCH_TOKEN, PREVIOUS_BENCH_TOKEN]);
// JWT mode, ES256: with the verified-token cache (what a sidecar's repeated token meets) and without.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwtOptions = { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), algorithms: ['ES256'] };
const jwt = await new SignJWT({ sub: 'bench' }).setProtectedHeader({ alg: 'ES256' }).setExpirationTime('1h').sign(privateKey);
const jwtCached = await createGuard({ jwt: jwtOptions });
const jwtUncached = await createGuard({ jwt: { ...jwtOptions, verifiedCacheSize: 0 } });
// Metrics on: a real OpenTelemetry SDK MeterProvider with a reader (counters aggregate on every call).
class IdleReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}
const withMetrics = await createGuard({ token: [BENCH_TOKEN], metrics: { meterProvider: new MeterProvider({ readers: [new IdleReader()] }) } });
const jwtContext = httpContext({ 'dapr-api-token': jwt });
if (!(await checkAsync(jwtCached.guard, jwtContext)) || !(await checkAsync(jwtUncached.guard, jwtContext)))
  throw new Error('the JWT guard does not accept its token');
const contexts = {
  accepted: httpContext({ 'dapr-api-token': BENCH_TOKEN }),
  'rejected (wrong token, right length)': httpContext({ 'dapr-api-token': WRONG_TOKEN }),
  // The same wrong token one character longer: the compare must cost the same (SECURITY.md).
  'rejected (wrong token, other length)': httpContext({ 'dapr-api-token': `${WRONG_TOKEN}0` }),
  'rejected (no token)': httpContext({}),
  'exempt (@DaprPublic)': httpContext({}, 'health'),
};
if (!check(guard, contexts.accepted) || check(guard, contexts['rejected (wrong token, right length)']))
  throw new Error('the guard does not behave as expected');

const noop = { canActivate: () => true };
// The floor for a rejection: one ready-made exception, thrown (what the bench's throwing guard does).
const readyMade = new UnauthorizedException();
const throwing = {
  canActivate: (): boolean => {
    throw readyMade;
  },
};
const bench = new Bench({ time, warmupTime: 300 });
bench.add('no-op guard', () => {
  check(noop, contexts.accepted);
});
bench.add('throwing guard (a ready-made 401)', () => {
  check(throwing, contexts['rejected (wrong token, right length)']);
});
for (const [name, context] of Object.entries(contexts)) {
  bench.add(`DaprAuthGuard ${name}`, () => {
    check(guard, context);
  });
}
bench.add('DaprAuthGuard accepted, metrics on (OpenTelemetry SDK)', () => {
  check(withMetrics.guard, contexts.accepted);
});
bench.add('DaprAuthGuard rejected (wrong token), metrics on', () => {
  check(withMetrics.guard, contexts['rejected (wrong token, right length)']);
});
bench.add('DaprAuthGuard accepted, 2 tokens (rotation grace period)', () => {
  check(rotating.guard, contexts.accepted);
});
bench.add('DaprAuthGuard JWT ES256, cached verification', () => {
  check(jwtCached.guard, jwtContext);
});
bench.add('DaprAuthGuard JWT ES256, uncached (signature checked)', async () => {
  await checkAsync(jwtUncached.guard, jwtContext);
});
await bench.run();
await close();
await rotating.close();
await jwtCached.close();
await jwtUncached.close();
await withMetrics.close();
process.stdout.write(
  `${JSON.stringify(
    bench.tasks.map((task) => {
      const result = task.result as unknown as { latency: { mean: number; p50?: number; rme: number }; throughput: { mean: number } };
      return {
        name: task.name,
        nsPerCall: result.latency.mean * 1e6,
        medianNs: (result.latency.p50 ?? result.latency.mean) * 1e6,
        rmePercent: result.latency.rme,
        opsPerSecond: result.throughput.mean,
      };
    }),
  )}\n`,
);
