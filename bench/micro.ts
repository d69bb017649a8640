// `canActivate` per path, in ns per call, against floors measured beside it in the same process:
// every round calls each task for one batch, in a rotated order (interleaved, so a slow spell of
// the machine hits every task alike), and each goal is the median over rounds of the per-round
// ratio task / floor. `node bench/dist/bench/micro.js [--time ms]` (the time per task, summed over
// rounds); prints one JSON line. run.ts runs it in several processes and takes medians over them.
import { generateKeyPairSync } from 'node:crypto';
import { type CanActivate, type ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { SignJWT } from 'jose';
import { BENCH_TOKEN, WRONG_TOKEN } from './bench-token.js';
import { callersController, check, checkAsync, ownCheck, createGuard, httpContext, manyRoutes, PREVIOUS_BENCH_TOKEN } from './guard-context.js';

const time = Number(process.argv[process.argv.indexOf('--time') + 1]) || 1500;
/** Calls per batch; a round is one batch of every task. */
const BATCH = 500;
const ROUNDS = Math.max(5, Math.round(time / 10));

/** A flat copy: a string made by concatenation (a cons string) is slower to index than the flat ones Node's HTTP parser makes. */
const flat = (value: string) => Buffer.from(value, 'utf16le').toString('utf16le');

const closers: Array<() => Promise<void>> = [];
async function guardWith(...args: Parameters<typeof createGuard>): Promise<CanActivate> {
  const { guard, close } = await createGuard(...args);
  closers.push(close);
  return guard;
}

// ---------------------------------------------------------------- floors
const noop: CanActivate = { canActivate: () => true };
const TOKEN = flat(BENCH_TOKEN);
/** The least a constant-time check can do: read the header, check it is a string, compare every code unit and the length. */
const minimal: CanActivate = {
  canActivate(context: ExecutionContext): boolean {
    const value = context.getArgByIndex<{ headers: Record<string, unknown> }>(0).headers['dapr-api-token'];
    if (typeof value !== 'string') return false;
    let difference = value.length ^ TOKEN.length;
    for (let i = 0; i < TOKEN.length; i++) difference |= value.charCodeAt(i) ^ TOKEN.charCodeAt(i);
    return difference === 0;
  },
};
const readyMade = new UnauthorizedException();
const pass = httpContext({ 'x-pass': '1' });
/** A guard that throws a ready-made 401, and returns on some calls so that V8 optimises it (one that never returns stays unoptimised). */
const throwing: CanActivate = {
  canActivate(context: ExecutionContext): boolean {
    if (context === pass) return true;
    throw readyMade;
  },
};
/** Calls `guard` from its own code, half of the time with a context it lets through: V8 optimises only a function that returns. */
function warmUpReturningAndThrowing(guard: CanActivate, passing: ExecutionContext, failing: ExecutionContext): void {
  const returns = ownCheck(guard, passing);
  const throws = ownCheck(guard, failing);
  for (let i = 0; i < 20_000; i++) (i % 2 === 0 ? returns : throws)();
}
warmUpReturningAndThrowing(throwing, pass, httpContext({}));

/**
 * The least a constant-time guard that rejects can do: the minimal guard's read and compare, and on
 * a mismatch the throwing guard's throw. Not a goal's floor (the goals are against the
 * throwing guard): it shows how much of the wrong-token ratio any constant-time check must spend.
 */
const minimalThrowing: CanActivate = {
  canActivate(context: ExecutionContext): boolean {
    const value = context.getArgByIndex<{ headers: Record<string, unknown> }>(0).headers['dapr-api-token'];
    if (typeof value === 'string') {
      let difference = value.length ^ TOKEN.length;
      for (let i = 0; i < TOKEN.length; i++) difference |= value.charCodeAt(i) ^ TOKEN.charCodeAt(i);
      if (difference === 0) return true;
    }
    throw readyMade;
  },
};

// ---------------------------------------------------------------- the guard, its paths and its growth
const contexts = {
  accepted: httpContext({ 'dapr-api-token': flat(BENCH_TOKEN) }),
  wrong: httpContext({ 'dapr-api-token': flat(WRONG_TOKEN) }),
  // One character longer, flat as Node's parser makes it: the compare must cost the same (SECURITY.md).
  wrongLength: httpContext({ 'dapr-api-token': flat(`${WRONG_TOKEN}0`) }),
  missing: httpContext({}),
  exempt: httpContext({}, 'health'),
};
const guard = await guardWith();
const logged = await guardWith({ token: [BENCH_TOKEN], logRejections: 'warn' }); // the default: rate-limited log
const extraTokens = (n: number) => Array.from({ length: n }, (_, i) => `${PREVIOUS_BENCH_TOKEN.slice(0, -2)}${String(i).padStart(2, '0')}`);
const twoTokens = await guardWith([BENCH_TOKEN, PREVIOUS_BENCH_TOKEN]);
const eightTokens = await guardWith([BENCH_TOKEN, ...extraTokens(7)]);
const callers1 = callersController(1);
const callers100 = callersController(100);
const callersGuard1 = await guardWith([BENCH_TOKEN], [callers1]);
const callersGuard100 = await guardWith([BENCH_TOKEN], [callers100]);
// The caller listed last of 100: the rule's whole list is walked.
const callerContext = (controller: typeof callers1, appId: string) =>
  httpContext({ 'dapr-api-token': flat(BENCH_TOKEN), 'dapr-caller-app-id': appId }, 'get', controller);
const routes10 = manyRoutes(10);
const routes1000 = manyRoutes(1000);
const routesGuard10 = await guardWith([BENCH_TOKEN], routes10);
const routesGuard1000 = await guardWith([BENCH_TOKEN], routes1000);
const routeContext = (controllers: typeof routes10) => httpContext({ 'dapr-api-token': flat(BENCH_TOKEN) }, 'get', controllers[controllers.length - 1]);
// Made once: the timed calls allocate nothing of their own.
const caller1Context = callerContext(callers1, 'app-0');
const caller100Context = callerContext(callers100, 'app-99');
const routes10Context = routeContext(routes10);
const routes1000Context = routeContext(routes1000);

class IdleReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}
const withMetrics = await guardWith({ token: [BENCH_TOKEN], metrics: { meterProvider: new MeterProvider({ readers: [new IdleReader()] }) } });
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwtOptions = { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), algorithms: ['ES256'] };
const jwt = await new SignJWT({ sub: 'bench' }).setProtectedHeader({ alg: 'ES256' }).setExpirationTime('1h').sign(privateKey);
const jwtCached = await guardWith({ jwt: jwtOptions });
const jwtContext = httpContext({ 'dapr-api-token': jwt });
if (!(await checkAsync(jwtCached, jwtContext))) throw new Error('the JWT guard does not accept its token');

const expectations: Array<[CanActivate, ExecutionContext, boolean]> = [
  [guard, contexts.accepted, true],
  [guard, contexts.wrong, false],
  [guard, contexts.missing, false],
  [minimal, contexts.accepted, true],
  [minimalThrowing, contexts.accepted, true],
  [minimalThrowing, contexts.wrong, false],
  [eightTokens, contexts.accepted, true],
  [callersGuard1, caller1Context, true],
  [callersGuard100, caller100Context, true],
  [callersGuard100, callerContext(callers100, 'app-100'), false],
  [routesGuard1000, routes1000Context, true],
];
for (const [candidate, context, expected] of expectations)
  if (check(candidate, context) !== expected) throw new Error('a benchmark guard does not decide as expected');

warmUpReturningAndThrowing(minimalThrowing, contexts.accepted, contexts.wrong);

/** Every task: a name and one call. */
const TASKS: Array<[string, () => unknown]> = [
  ['floor: no-op guard', ownCheck(noop, contexts.accepted)],
  ['floor: minimal constant-time guard, accepted', ownCheck(minimal, contexts.accepted)],
  ['floor: throwing guard (a ready-made 401, optimised)', ownCheck(throwing, contexts.wrong)],
  ['floor: minimal constant-time guard, rejecting a wrong token (throws a ready-made 401)', ownCheck(minimalThrowing, contexts.wrong)],
  ['DaprAuthGuard accepted', ownCheck(guard, contexts.accepted)],
  ['DaprAuthGuard rejected, wrong token (right length), log off', ownCheck(guard, contexts.wrong)],
  ['DaprAuthGuard rejected, wrong token (other length), log off', ownCheck(guard, contexts.wrongLength)],
  ['DaprAuthGuard rejected, missing token, log off', ownCheck(guard, contexts.missing)],
  ['DaprAuthGuard rejected, wrong token, default rate-limited log', ownCheck(logged, contexts.wrong)],
  ['DaprAuthGuard rejected, missing token, default rate-limited log', ownCheck(logged, contexts.missing)],
  ['DaprAuthGuard exempt (@DaprPublic)', ownCheck(guard, contexts.exempt)],
  ['DaprAuthGuard accepted, 2 tokens (rotation)', ownCheck(twoTokens, contexts.accepted)],
  ['DaprAuthGuard accepted, 8 tokens', ownCheck(eightTokens, contexts.accepted)],
  ['DaprAuthGuard accepted, @DaprCallers of 1 app', ownCheck(callersGuard1, caller1Context)],
  ['DaprAuthGuard accepted, @DaprCallers of 100 apps (the last one calls)', ownCheck(callersGuard100, caller100Context)],
  ['DaprAuthGuard accepted, app of 10 routes', ownCheck(routesGuard10, routes10Context)],
  ['DaprAuthGuard accepted, app of 1000 routes', ownCheck(routesGuard1000, routes1000Context)],
  ['DaprAuthGuard accepted, metrics on (OpenTelemetry SDK)', ownCheck(withMetrics, contexts.accepted)],
  ['DaprAuthGuard JWT ES256, cached verification', ownCheck(jwtCached, jwtContext)],
];
const taskFns = TASKS.map(([, fn]) => fn);

/** Goals: a task against its floor, as the median of per-round ratios. */
const GOALS: Array<{ goal: string; task: string; floor: string; max?: number }> = [
  { goal: 'accepted / minimal constant-time guard', task: 'DaprAuthGuard accepted', floor: 'floor: minimal constant-time guard, accepted', max: 1.15 },
  {
    goal: 'wrong token, log off / optimised throwing guard',
    task: 'DaprAuthGuard rejected, wrong token (right length), log off',
    floor: 'floor: throwing guard (a ready-made 401, optimised)',
    max: 1.5,
  },
  {
    goal: 'wrong token, default log / optimised throwing guard',
    task: 'DaprAuthGuard rejected, wrong token, default rate-limited log',
    floor: 'floor: throwing guard (a ready-made 401, optimised)',
    max: 1.5,
  },
  {
    goal: 'missing token, log off / optimised throwing guard',
    task: 'DaprAuthGuard rejected, missing token, log off',
    floor: 'floor: throwing guard (a ready-made 401, optimised)',
    max: 1.2,
  },
  {
    goal: 'missing token, default log / optimised throwing guard',
    task: 'DaprAuthGuard rejected, missing token, default rate-limited log',
    floor: 'floor: throwing guard (a ready-made 401, optimised)',
    max: 1.2,
  },
  {
    goal: 'wrong token, log off / minimal constant-time guard that throws',
    task: 'DaprAuthGuard rejected, wrong token (right length), log off',
    floor: 'floor: minimal constant-time guard, rejecting a wrong token (throws a ready-made 401)',
  },
  {
    goal: 'minimal constant-time guard that throws / optimised throwing guard',
    task: 'floor: minimal constant-time guard, rejecting a wrong token (throws a ready-made 401)',
    floor: 'floor: throwing guard (a ready-made 401, optimised)',
  },
  {
    goal: 'wrong token: other length / right length',
    task: 'DaprAuthGuard rejected, wrong token (other length), log off',
    floor: 'DaprAuthGuard rejected, wrong token (right length), log off',
  },
  { goal: 'growth: 2 tokens / 1', task: 'DaprAuthGuard accepted, 2 tokens (rotation)', floor: 'DaprAuthGuard accepted' },
  { goal: 'growth: 8 tokens / 1', task: 'DaprAuthGuard accepted, 8 tokens', floor: 'DaprAuthGuard accepted' },
  {
    goal: 'growth: @DaprCallers of 100 apps / 1',
    task: 'DaprAuthGuard accepted, @DaprCallers of 100 apps (the last one calls)',
    floor: 'DaprAuthGuard accepted, @DaprCallers of 1 app',
  },
  { goal: 'growth: 1000 routes / 10', task: 'DaprAuthGuard accepted, app of 1000 routes', floor: 'DaprAuthGuard accepted, app of 10 routes' },
];

// ---------------------------------------------------------------- run
const perRound: number[][] = TASKS.map(() => []);
function batch(fn: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < BATCH; i++) fn();
  return Number(process.hrtime.bigint() - start) / BATCH;
}
for (let i = 0; i < 3; i++) taskFns.forEach((fn) => batch(fn)); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < taskFns.length; k++) {
    const index = (k + round) % taskFns.length;
    perRound[index].push(batch(taskFns[index]));
  }
}
for (const close of closers) await close();

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const indexOf = (name: string) => TASKS.findIndex(([task]) => task === name);
process.stdout.write(
  `${JSON.stringify({
    rounds: ROUNDS,
    batch: BATCH,
    tasks: TASKS.map(([name], i) => ({ name, medianNs: median(perRound[i]) })),
    goals: GOALS.map(({ goal, task, floor, max }) => {
      const a = perRound[indexOf(task)];
      const b = perRound[indexOf(floor)];
      return { goal, task, floor, max, ratio: median(a.map((value, round) => value / b[round])) };
    }),
  })}\n`,
);
