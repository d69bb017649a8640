// `canActivate` per path, in ns per call, against floors measured beside it in the same process:
// every round calls each task for one batch, in a rotated order (interleaved, so a slow spell of
// the machine hits every task alike), and each goal is the median over rounds of the per-round
// ratio task / floor. `node bench/dist/bench/micro.js [--time ms]` (the time per task, summed over
// rounds); prints one JSON line. run.ts runs it in several processes and takes medians over them.
import { generateKeyPairSync, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { SignJWT } from 'jose';
import { BENCH_TOKEN, WRONG_TOKEN } from './bench-token.js';
import {
  callersController,
  check,
  checkAsync,
  createGuard,
  createMessageHandlerGate,
  graphqlContext,
  grpcContext,
  httpContext,
  manyRoutes,
  ownCheck,
  ownCheckOfNewRequests,
  PREVIOUS_BENCH_TOKEN,
} from './guard-context.js';

const time = Number(process.argv[process.argv.indexOf('--time') + 1]) || 1500;
/**
 * `--http-only`: only the HTTP tasks, as in an HTTP app, whose guard sees nothing else. V8 keeps
 * one set of type feedback per function, shared by every DaprAuthGuard of a process, so GraphQL,
 * gRPC, JWT and metrics guards called in the same process make the HTTP path polymorphic (about
 * 35 ns of an accepted call: bench/history.md). Without it (a "mixed" process), the rows that an
 * HTTP-only process also measures are prefixed `mixed: ` and stated, not held to a goal.
 */
const httpOnly = process.argv.includes('--http-only');
/** Tasks an HTTP-only process runs: every task whose guard sees an HTTP context of the default options. */
const isHttpTask = (name: string) => !/GraphQL|gRPC|JWT|metrics/.test(name);
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
 * a mismatch the throwing guard's throw. Stated, not a goal's floor (the wrong-token goals are
 * against the `timingSafeEqual` guard below, the check an app writes): the fastest such guard.
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

const TOKEN_BYTES = Buffer.from(TOKEN);
/**
 * The constant-time check an app writes itself: the header's bytes against the token's with
 * `crypto.timingSafeEqual` (which needs equal lengths, so a length mismatch answers first).
 */
function safeEqualsToken(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const presented = Buffer.from(value);
  return presented.length === TOKEN_BYTES.length && timingSafeEqual(presented, TOKEN_BYTES);
}
const httpHeader = (context: ExecutionContext) => context.getArgByIndex<{ headers: Record<string, unknown> }>(0).headers['dapr-api-token'];
const graphqlHeader = (context: ExecutionContext) => context.getArgByIndex<{ req: { headers: Record<string, unknown> } }>(2).req.headers['dapr-api-token'];

/**
 * The floor of the wrong-token goals: the least a constant-time guard that rejects can do, the
 * `timingSafeEqual` check and, on a mismatch, the throwing guard's throw (warmed up as it is).
 */
const safeEqualThrowing: CanActivate = {
  canActivate(context: ExecutionContext): boolean {
    if (safeEqualsToken(httpHeader(context))) return true;
    throw readyMade;
  },
};
/** The same two floors in a resolver: the token read from the GraphQL context's request. */
const graphqlSafeEqual: CanActivate = { canActivate: (context: ExecutionContext) => safeEqualsToken(graphqlHeader(context)) };
const graphqlSafeEqualThrowing: CanActivate = {
  canActivate(context: ExecutionContext): boolean {
    if (safeEqualsToken(graphqlHeader(context))) return true;
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
const graphql = {
  accepted: graphqlContext({ 'dapr-api-token': flat(BENCH_TOKEN) }),
  wrong: graphqlContext({ 'dapr-api-token': flat(WRONG_TOKEN) }),
  missing: graphqlContext({}),
};
const grpcAccepted = grpcContext(flat(BENCH_TOKEN));
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
if (!httpOnly && !(await checkAsync(jwtCached, jwtContext))) throw new Error('the JWT guard does not accept its token');

const { gate: messageHandlerGate, guard: gatedGuard, close: closeGate } = await createMessageHandlerGate();
closers.push(closeGate);

const expectations: Array<[CanActivate, ExecutionContext, boolean]> = [
  [guard, contexts.accepted, true],
  [guard, contexts.wrong, false],
  [guard, contexts.missing, false],
  [minimal, contexts.accepted, true],
  [minimalThrowing, contexts.accepted, true],
  [minimalThrowing, contexts.wrong, false],
  [safeEqualThrowing, contexts.accepted, true],
  [safeEqualThrowing, contexts.wrong, false],
  [guard, graphql.accepted, true],
  [guard, graphql.wrong, false],
  [guard, graphql.missing, false],
  [graphqlSafeEqual, graphql.accepted, true],
  [graphqlSafeEqual, graphql.wrong, false],
  [graphqlSafeEqualThrowing, graphql.wrong, false],
  [gatedGuard, grpcAccepted, true],
  [messageHandlerGate, grpcAccepted, true],
  [messageHandlerGate, grpcContext(flat(WRONG_TOKEN)), false],
  [eightTokens, contexts.accepted, true],
  [callersGuard1, caller1Context, true],
  [callersGuard100, caller100Context, true],
  [callersGuard100, callerContext(callers100, 'app-100'), false],
  [routesGuard1000, routes1000Context, true],
];
for (const [candidate, context, expected] of expectations) {
  if (httpOnly && (context.getType() !== 'http' || candidate === gatedGuard || candidate === messageHandlerGate)) continue;
  if (check(candidate, context) !== expected) throw new Error('a benchmark guard does not decide as expected');
}

warmUpReturningAndThrowing(minimalThrowing, contexts.accepted, contexts.wrong);
warmUpReturningAndThrowing(safeEqualThrowing, contexts.accepted, contexts.wrong);
warmUpReturningAndThrowing(graphqlSafeEqualThrowing, graphql.accepted, graphql.wrong);
const acceptNewRequests = ownCheckOfNewRequests(guard, { 'dapr-api-token': TOKEN });
if (acceptNewRequests() !== true) throw new Error('the guard does not accept a new request with the right token');

/** Task names that goals refer to (and the report's readers quote). */
const T = {
  noop: 'floor: no-op guard',
  minimal: 'floor: minimal constant-time guard, accepted',
  throwing: 'floor: throwing guard (a ready-made 401, optimised)',
  minimalThrowing: 'floor: minimal constant-time guard, rejecting a wrong token (throws a ready-made 401)',
  safeEqualThrowing: 'floor: crypto.timingSafeEqual guard, rejecting a wrong token (throws a ready-made 401, optimised)',
  accepted: 'DaprAuthGuard accepted',
  wrong: 'DaprAuthGuard rejected, wrong token (right length), log off',
  wrongLength: 'DaprAuthGuard rejected, wrong token (other length), log off',
  missing: 'DaprAuthGuard rejected, missing token, log off',
  wrongLogged: 'DaprAuthGuard rejected, wrong token, default rate-limited log',
  missingLogged: 'DaprAuthGuard rejected, missing token, default rate-limited log',
  graphqlNoop: 'floor: no-op guard, GraphQL resolver context',
  graphqlSafeEqual: 'floor: crypto.timingSafeEqual guard, GraphQL, accepted',
  graphqlSafeEqualThrowing: 'floor: crypto.timingSafeEqual guard, GraphQL, rejecting a wrong token (throws a ready-made 401, optimised)',
  graphqlAccepted: 'DaprAuthGuard accepted, GraphQL resolver',
  graphqlWrong: 'DaprAuthGuard rejected, wrong token, GraphQL resolver, log off',
  graphqlMissing: 'DaprAuthGuard rejected, missing token, GraphQL resolver, log off',
  noopNewRequests: 'floor: no-op guard, a new request object per call',
  acceptedNewRequests: 'DaprAuthGuard accepted, a new request object per call',
  grpcGuard: 'DaprAuthGuard accepted, gRPC unary (the guard alone)',
  grpcGate: 'DaprAuthGuard accepted, gRPC unary, through the message-handler gate of global: true',
  tokens2: 'DaprAuthGuard accepted, 2 tokens (rotation)',
  tokens8: 'DaprAuthGuard accepted, 8 tokens',
  callers1: 'DaprAuthGuard accepted, @DaprCallers of 1 app',
  callers100: 'DaprAuthGuard accepted, @DaprCallers of 100 apps (the last one calls)',
  routes10: 'DaprAuthGuard accepted, app of 10 routes',
  routes1000: 'DaprAuthGuard accepted, app of 1000 routes',
};

/** Every task: a name and one call. */
const TASKS: Array<[string, () => unknown]> = [
  [T.noop, ownCheck(noop, contexts.accepted)],
  [T.minimal, ownCheck(minimal, contexts.accepted)],
  [T.throwing, ownCheck(throwing, contexts.wrong)],
  [T.minimalThrowing, ownCheck(minimalThrowing, contexts.wrong)],
  [T.safeEqualThrowing, ownCheck(safeEqualThrowing, contexts.wrong)],
  [T.accepted, ownCheck(guard, contexts.accepted)],
  [T.wrong, ownCheck(guard, contexts.wrong)],
  [T.wrongLength, ownCheck(guard, contexts.wrongLength)],
  [T.missing, ownCheck(guard, contexts.missing)],
  [T.wrongLogged, ownCheck(logged, contexts.wrong)],
  [T.missingLogged, ownCheck(logged, contexts.missing)],
  ['DaprAuthGuard exempt (@DaprPublic)', ownCheck(guard, contexts.exempt)],
  [T.graphqlNoop, ownCheck(noop, graphql.accepted)],
  [T.graphqlSafeEqual, ownCheck(graphqlSafeEqual, graphql.accepted)],
  [T.graphqlSafeEqualThrowing, ownCheck(graphqlSafeEqualThrowing, graphql.wrong)],
  [T.graphqlAccepted, ownCheck(guard, graphql.accepted)],
  [T.graphqlWrong, ownCheck(guard, graphql.wrong)],
  [T.graphqlMissing, ownCheck(guard, graphql.missing)],
  [T.noopNewRequests, ownCheckOfNewRequests(noop, { 'dapr-api-token': TOKEN })],
  [T.acceptedNewRequests, acceptNewRequests],
  [T.grpcGuard, ownCheck(gatedGuard, grpcAccepted)],
  [T.grpcGate, ownCheck(messageHandlerGate, grpcAccepted)],
  [T.tokens2, ownCheck(twoTokens, contexts.accepted)],
  [T.tokens8, ownCheck(eightTokens, contexts.accepted)],
  [T.callers1, ownCheck(callersGuard1, caller1Context)],
  [T.callers100, ownCheck(callersGuard100, caller100Context)],
  [T.routes10, ownCheck(routesGuard10, routes10Context)],
  [T.routes1000, ownCheck(routesGuard1000, routes1000Context)],
  ['DaprAuthGuard accepted, metrics on (OpenTelemetry SDK)', ownCheck(withMetrics, contexts.accepted)],
  ['DaprAuthGuard JWT ES256, cached verification', ownCheck(jwtCached, jwtContext)],
];
if (httpOnly) TASKS.splice(0, TASKS.length, ...TASKS.filter(([name]) => isHttpTask(name)));
const taskFns = TASKS.map(([, fn]) => fn);

/**
 * Goals: a task against its floor, as the median of per-round ratios; `max` where the issue sets
 * one, else stated. Rejections are held to the least a guard that does the same must spend: a
 * wrong token to a constant-time guard that throws (the compare alone costs about 0.7× of a bare
 * throw, bench/history.md), a missing token, which needs no compare, to the bare throw.
 */
const ALL_GOALS: Array<{ goal: string; task: string; floor: string; max?: number }> = [
  { goal: 'accepted / minimal constant-time guard', task: T.accepted, floor: T.minimal, max: 1.15 },
  { goal: 'accepted / no-op guard (remembering the verified call included)', task: T.accepted, floor: T.noop },
  { goal: 'wrong token, log off / timingSafeEqual guard that throws', task: T.wrong, floor: T.safeEqualThrowing, max: 1.2 },
  { goal: 'wrong token, default log / timingSafeEqual guard that throws', task: T.wrongLogged, floor: T.safeEqualThrowing, max: 1.2 },
  { goal: 'missing token, log off / optimised throwing guard', task: T.missing, floor: T.throwing, max: 1.5 },
  { goal: 'missing token, default log / optimised throwing guard', task: T.missingLogged, floor: T.throwing, max: 1.5 },
  { goal: 'GraphQL: accepted / no-op guard', task: T.graphqlAccepted, floor: T.graphqlNoop },
  { goal: 'GraphQL: accepted / timingSafeEqual guard', task: T.graphqlAccepted, floor: T.graphqlSafeEqual },
  { goal: 'GraphQL: wrong token, log off / timingSafeEqual guard that throws', task: T.graphqlWrong, floor: T.graphqlSafeEqualThrowing, max: 1.2 },
  { goal: 'GraphQL: missing token, log off / optimised throwing guard', task: T.graphqlMissing, floor: T.throwing, max: 1.5 },
  { goal: 'accepted / no-op guard, a new request object per call', task: T.acceptedNewRequests, floor: T.noopNewRequests },
  // What remembering each accepted call costs a server, whose every request is a new object (the rows above reuse one).
  { goal: 'accepted: a new request object per call / one request reused (making the request included)', task: T.acceptedNewRequests, floor: T.accepted },
  { goal: 'gRPC, global: true: message-handler gate + guard / the guard alone', task: T.grpcGate, floor: T.grpcGuard },
  { goal: "wrong token, log off / optimised throwing guard (the old goal's floor)", task: T.wrong, floor: T.throwing },
  { goal: 'wrong token, log off / minimal constant-time guard that throws (charCodeAt loop)', task: T.wrong, floor: T.minimalThrowing },
  { goal: 'timingSafeEqual guard that throws / optimised throwing guard', task: T.safeEqualThrowing, floor: T.throwing },
  { goal: 'minimal constant-time guard that throws (charCodeAt loop) / optimised throwing guard', task: T.minimalThrowing, floor: T.throwing },
  { goal: 'wrong token: other length / right length', task: T.wrongLength, floor: T.wrong },
  { goal: 'growth: 2 tokens / 1', task: T.tokens2, floor: T.accepted },
  { goal: 'growth: 8 tokens / 1', task: T.tokens8, floor: T.accepted },
  { goal: 'growth: @DaprCallers of 100 apps / 1', task: T.callers100, floor: T.callers1 },
  { goal: 'growth: 1000 routes / 10', task: T.routes1000, floor: T.routes10 },
];
const GOALS = ALL_GOALS.flatMap((entry) => {
  const http = isHttpTask(entry.task) && isHttpTask(entry.floor);
  if (httpOnly) return http ? [entry] : [];
  return http ? [{ goal: `mixed: ${entry.goal}`, task: entry.task, floor: entry.floor }] : [entry];
});
for (const { goal, task, floor } of GOALS)
  if (!TASKS.some(([name]) => name === task) || !TASKS.some(([name]) => name === floor)) throw new Error(`goal "${goal}" names a task that does not run`);

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
