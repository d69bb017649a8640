// Turns a benchmark run into BENCHMARKS.md and an SVG chart. Pure functions of the results.

export type Target = 'express' | 'fastify' | 'grpc';
export type VariantName = 'none' | 'noop' | 'dapr-valid' | 'floor-reject' | 'dapr-reject' | 'dapr-reject-logged' | 'passport' | 'plain-check' | 'plain-dapr';

/** One measured run of one variant on one target. */
export interface Sample {
  round: number;
  target: Target;
  variant: VariantName;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  accepted: number;
  rejected: number;
  errors: number;
  /** The server process's CPU time per request, in µs (Linux only). */
  serverCpuUsPerRequest?: number;
}

export interface Results {
  date: string;
  command: string;
  machine: { cpu: string; cores: number; memoryGB: number; node: string; platform: string };
  versions: Record<string, string>;
  settings: {
    duration: number;
    connections: number;
    rounds: number;
    variants: VariantName[];
    targets: Target[];
    pinned: boolean;
    /** What generated the load (older results: autocannon and the grpc-js client). */
    drivers?: { http: string; grpc: string };
    /** Whether every round started its servers afresh. */
    freshServers?: boolean;
  };
  samples: Sample[];
  problems: string[];
  /** One entry per micro-benchmark process (older results: one tinybench table). */
  micro?: MicroRun[] | Array<{ name: string; nsPerCall: number; medianNs: number; rmePercent: number; opsPerSecond: number }>;
  memory?: { calls: number; before: MemoryReading; afterFirst: MemoryReading; afterSecond: MemoryReading };
  startup?: StartupRun;
}
/** bench/startup.ts: start-up times (ms) of the same app with and without DaprAuthModule, pair by pair, per number of handlers. */
export interface StartupRun {
  reps: number;
  sizes: Array<{ handlers: number; withModuleMs: number[]; withoutMs: number[] }>;
}
/** One micro-benchmark process (bench/micro.ts): medians over its rounds, and each goal's median per-round ratio. */
export interface MicroRun {
  rounds: number;
  batch: number;
  tasks: Array<{ name: string; medianNs: number }>;
  goals: Array<{ goal: string; task: string; floor: string; max?: number; ratio: number }>;
}

function microRuns(results: Results): MicroRun[] | undefined {
  const micro = results.micro;
  return micro && micro.length > 0 && 'goals' in micro[0] ? (micro as MicroRun[]) : undefined;
}

interface MemoryReading {
  heapUsedMB: number;
  rssMB: number;
}

const LABELS: Record<VariantName, string> = {
  none: 'no guard (baseline)',
  noop: 'no-op guard (returns true)',
  'dapr-valid': 'DaprAuthGuard, right token',
  'floor-reject': 'throwing guard (a ready-made 401 / RpcException 16)',
  'dapr-reject': 'DaprAuthGuard, wrong token (401 / 16)',
  'dapr-reject-logged': 'DaprAuthGuard, wrong token, default rejection log',
  passport: '@nestjs/passport + passport-headerapikey',
  'plain-check': 'no Nest: a minimal inline check (timingSafeEqual, 401 otherwise)',
  'plain-dapr': 'no Nest: nestjs-dapr-auth/standalone (middleware / onRequest hook)',
};
/** The variants served by a plain Express / Fastify app (plain-server.ts): compared with each other, not with Nest's. */
const isPlain = (variant: VariantName) => variant === 'plain-check' || variant === 'plain-dapr';
const STANDALONE_ENTRY: Partial<Record<Target, string>> = { express: 'daprAuthExpressMiddleware', fastify: 'daprAuthFastifyHook' };
const TARGET_LABELS: Record<Target, string> = { express: 'HTTP, Express', fastify: 'HTTP, Fastify', grpc: 'gRPC unary (AppCallback/OnInvoke)' };

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

function samplesOf(results: Results, target: Target, variant: VariantName): Sample[] {
  return results.samples.filter((sample) => sample.target === target && sample.variant === variant);
}

type Metric = 'throughput' | 'cpu';
const valueOf = (sample: Sample, metric: Metric) => (metric === 'throughput' ? sample.requestsPerSecond : sample.serverCpuUsPerRequest);

/**
 * The per-round ratios a/b of a metric (throughput, or server CPU per request): each round
 * measures both within seconds of each other, so slow drifts of a noisy machine cancel out.
 */
export function roundRatios(results: Results, target: Target, a: VariantName, b: VariantName, metric: Metric = 'throughput'): number[] {
  return samplesOf(results, target, a).flatMap((sample) => {
    const other = samplesOf(results, target, b).find((candidate) => candidate.round === sample.round);
    const [x, y] = [valueOf(sample, metric), other && valueOf(other, metric)];
    return x !== undefined && y !== undefined && y > 0 ? [x / y] : [];
  });
}

/** The median of the per-round ratios a/b. */
export function pairedRatio(results: Results, target: Target, a: VariantName, b: VariantName, metric: Metric = 'throughput'): number | undefined {
  const ratios = roundRatios(results, target, a, b, metric);
  return ratios.length ? median(ratios) : undefined;
}

function cpuCell(samples: Sample[]): string {
  const values = samples.flatMap((sample) => (sample.serverCpuUsPerRequest === undefined ? [] : [sample.serverCpuUsPerRequest]));
  return values.length ? `${median(values).toFixed(2)} µs` : '—';
}
const percent = (ratio: number | undefined) => (ratio === undefined ? '—' : `${(ratio * 100).toFixed(1)} %`);
const int = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)} ms` : '—');

/** "98.7 % (95.1 – 101.2)": the median of the per-round ratios and their range. */
function ratioCell(ratios: number[]): string {
  if (!ratios.length) return '—';
  return `${percent(median(ratios))} (${(Math.min(...ratios) * 100).toFixed(1)} – ${(Math.max(...ratios) * 100).toFixed(1)})`;
}

interface Comparison {
  target: Target;
  what: string;
  a: VariantName;
  b: VariantName;
  /** Lowest acceptable throughput ratio a/b. */
  minThroughput: number;
  /** Highest acceptable server-CPU-per-request ratio a/b, where there is a goal for it. */
  maxCpu?: number;
}

function comparisons(results: Results): Comparison[] {
  const rows: Comparison[] = [];
  for (const target of results.settings.targets) {
    rows.push({ target, what: 'accepting vs the no-op guard', a: 'dapr-valid', b: 'noop', minThroughput: 0.97 });
    rows.push({ target, what: 'rejecting vs the throwing guard', a: 'dapr-reject', b: 'floor-reject', minThroughput: 0.97, maxCpu: 1.03 });
    rows.push({
      target,
      what: 'rejecting, default rejection log, vs the throwing guard',
      a: 'dapr-reject-logged',
      b: 'floor-reject',
      minThroughput: 0.97,
      maxCpu: 1.03,
    });
    if (target !== 'grpc') rows.push({ target, what: 'accepting vs passport-headerapikey', a: 'dapr-valid', b: 'passport', minThroughput: 1 });
    const entry = STANDALONE_ENTRY[target];
    if (entry) rows.push({ target, what: `no Nest: ${entry} accepting vs a minimal inline check`, a: 'plain-dapr', b: 'plain-check', minThroughput: 0.97 });
  }
  return rows.filter((row) => roundRatios(results, row.target, row.a, row.b).length > 0);
}

function comparisonRow(results: Results, row: Comparison): string {
  const throughput = roundRatios(results, row.target, row.a, row.b);
  const cpu = roundRatios(results, row.target, row.a, row.b, 'cpu');
  const goal = [`throughput ≥ ${percent(row.minThroughput)}`, ...(row.maxCpu ? [`CPU ≤ ${percent(row.maxCpu)}`] : [])].join(', ');
  const met = median(throughput) >= row.minThroughput && (row.maxCpu === undefined || (cpu.length > 0 && median(cpu) <= row.maxCpu));
  return `| ${TARGET_LABELS[row.target]} | ${row.what} | ${ratioCell(throughput)} | ${ratioCell(cpu)} | ${goal} | ${met ? 'yes' : '**no**'} |`;
}

/** The micro benchmark's goals, as ratios against floors measured in the same processes: the median over processes, and their range. */
function microTargetRows(results: Results): string[] {
  const runs = microRuns(results);
  if (!runs) return [];
  return runs[0].goals
    .filter((goal) => goal.max !== undefined)
    .map(({ goal, max }) => {
      const ratios = runs.map((run) => run.goals.find((candidate) => candidate.goal === goal)!.ratio);
      const mid = median(ratios);
      return `| micro | ${goal} | ${mid.toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | | ≤ ${max!.toFixed(2)}× | ${mid <= max! ? 'yes' : '**no**'} |`;
    });
}

/** The start-up growth goal: what the module adds per handler may grow no faster than linearly with the app. */
const MAX_STARTUP_GROWTH = 1.5;

/** Per app size: the medians of the start-ups with and without the module, and of what the module added in each pair. */
function startupRows(startup: StartupRun) {
  return startup.sizes.map(({ handlers, withModuleMs, withoutMs }) => {
    const addedMs = median(withModuleMs.map((ms, pair) => ms - withoutMs[pair]));
    return { handlers, withModuleMs: median(withModuleMs), withoutMs: median(withoutMs), addedMs, perHandlerUs: (addedMs * 1000) / handlers };
  });
}

/**
 * Added per handler at the largest app over the next smaller one: at most 1 when the cost is
 * linear (the module's fixed part is spread over more handlers). undefined when the smaller app's
 * added time is not positive (noise larger than the cost: nothing to divide by).
 */
function startupGrowth(startup: StartupRun): { goal: string; ratio: number | undefined } | undefined {
  const rows = startupRows(startup);
  if (rows.length < 2) return undefined;
  const [smaller, larger] = rows.slice(-2);
  return {
    goal: `added per handler, ${int(larger.handlers)} handlers / ${int(smaller.handlers)}`,
    ratio: smaller.perHandlerUs > 0 ? larger.perHandlerUs / smaller.perHandlerUs : undefined,
  };
}

function startupTargetRows(results: Results): string[] {
  const growth = results.startup && startupGrowth(results.startup);
  if (!growth) return [];
  const { goal, ratio } = growth;
  const met = ratio === undefined ? '—' : ratio <= MAX_STARTUP_GROWTH ? 'yes' : '**no**';
  return [`| start-up | ${goal} | ${ratio === undefined ? '—' : `${ratio.toFixed(2)}×`} | | ≤ ${MAX_STARTUP_GROWTH.toFixed(2)}× | ${met} |`];
}

function startupSection(startup: StartupRun): string[] {
  const growth = startupGrowth(startup);
  return [
    '## Start-up: what DaprAuthModule adds, by number of handlers',
    '',
    '`NestFactory.create()` and `app.init()` (Express adapter, not listening) of an app of N generated controllers of one',
    'GET route each, with `DaprAuthModule.forRoot({ global: true })` and without it (`bench/startup.ts`), in',
    `${startup.reps} pair(s) per size measured back to back (the order alternated), every app from classes of its own. The module does`,
    'part of its work in its constructor, which Nest runs in `create()`, and the rest in `onModuleInit`, in `init()`: both are',
    'timed. Added: the median of the per-pair differences; per handler, that over N (at 10 handlers it is mostly the',
    "module's fixed cost).",
    '',
    '| Handlers | Without the module | With it | Added | Added per handler |',
    '|---:|---:|---:|---:|---:|',
    ...startupRows(startup).map(
      (row) => `| ${int(row.handlers)} | ${ms(row.withoutMs)} | ${ms(row.withModuleMs)} | ${ms(row.addedMs)} | ${row.perHandlerUs.toFixed(1)} µs |`,
    ),
    '',
    ...(growth
      ? [
          `Growth, ${growth.goal}: ${growth.ratio === undefined ? '— (the smaller app added nothing measurable)' : `**${growth.ratio.toFixed(2)}×**`} (goal ≤ ${MAX_STARTUP_GROWTH.toFixed(2)}×: no faster than linear).`,
          '',
        ]
      : []),
  ];
}

/** One variant's row of a throughput table: median, range, spread, latencies, the ratios asked for, CPU. */
function throughputRow(results: Results, target: Target, variant: VariantName, label: string, against: VariantName[]): string | undefined {
  const samples = samplesOf(results, target, variant);
  if (!samples.length) return undefined;
  const rps = samples.map((sample) => sample.requestsPerSecond);
  const mid = median(rps);
  const ratios = against.map((other) => ` ${percent(pairedRatio(results, target, variant, other))} |`).join('');
  return `| ${label} | ${int(mid)} | ${int(Math.min(...rps))} – ${int(Math.max(...rps))} | ±${(((Math.max(...rps) - Math.min(...rps)) / 2 / mid) * 100).toFixed(1)} % | ${ms(median(samples.map((s) => s.p50Ms)))} | ${ms(median(samples.map((s) => s.p99Ms)))} |${ratios} ${cpuCell(samples)} |`;
}

/** The plain Express / Fastify apps (no Nest): the standalone check against the minimal inline one. */
function plainSection(results: Results): string[] {
  const rows = results.settings.targets.flatMap((target) =>
    (['plain-check', 'plain-dapr'] as const).flatMap((variant) => {
      const label = `${TARGET_LABELS[target]}: ${variant === 'plain-dapr' ? STANDALONE_ENTRY[target] : 'minimal inline check (timingSafeEqual)'}`;
      return throughputRow(results, target, variant, label, ['plain-check']) ?? [];
    }),
  );
  if (!rows.length) return [];
  return [
    '### Without Nest: nestjs-dapr-auth/standalone',
    '',
    'A plain Express 5 or Fastify 5 app (`bench/plain-server.ts`, no Nest loaded) serving the same answer, with',
    '`daprAuthExpressMiddleware` / `daprAuthFastifyHook` (`logRejections: false`) or with the check an app writes itself',
    '(`crypto.timingSafeEqual` of the header against the token, 401 otherwise) in front of the route; right token.',
    '',
    '| App and check | Median req/s | Min – max | Spread | p50 | p99 | vs minimal check | Server CPU per request |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ];
}

export function renderMarkdown(results: Results, history: string): string {
  const { machine, settings } = results;
  const lines: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (bench/run.ts, bench/report.ts); edit bench/history.md instead. -->',
    '',
    'What `DaprAuthGuard` costs, against no guard, the floors Nest itself sets (accepting: a no-op guard',
    'that returns `true`; rejecting: a guard that throws one ready-made `UnauthorizedException`, or',
    '`RpcException` code 16 for gRPC) and the usual alternative, `@nestjs/passport` with',
    '`passport-headerapikey` checking the same header. Every variant serves the same route with the same',
    'handler from its own process (`bench/server.ts`), pinned to one CPU; the load generator runs on the',
    'others (wrk for HTTP when it is installed, which keeps the server the bottleneck; ghz for gRPC when',
    'it is on the PATH). Runs are interleaved (A B C …, A B C …) and each ratio is the median of the',
    'per-round ratios, with their range, so the drift of a noisy machine cancels out. "DaprAuthGuard,',
    'wrong token" runs with `logRejections: false`; "default rejection log" with the defaults (`warn`,',
    "Nest's console logger, to a pipe the bench drains). Server CPU per request is the server process's",
    'own CPU time (from /proc) over the requests it answered: it does not depend on how fast the load',
    'generator is. Without Nest, `nestjs-dapr-auth/standalone` in a plain Express and Fastify app is compared with the',
    'same app checking the header itself; "Start-up" is what `DaprAuthModule` adds to starting apps of 10 to 5,000 routes.',
    '',
    `- Run: ${results.date}, \`${results.command}\``,
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGB} GiB, ${machine.platform}, Node ${machine.node}`,
    `- Versions: ${Object.entries(results.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}`,
    `- Settings: ${settings.rounds} rounds × ${settings.duration} s per run, ${settings.connections} connections (in-flight calls for gRPC); ${settings.pinned ? 'servers pinned to one CPU and the load generator to the others (taskset)' : 'not pinned to CPUs'}; ${settings.freshServers ? 'every round with freshly started servers (and a 2 s warm-up each)' : 'the same server processes for every round'}`,
    `- Load: HTTP ${settings.drivers?.http ?? 'autocannon'}, gRPC ${settings.drivers?.grpc ?? '@grpc/grpc-js client (in the bench process)'}`,
    '',
    '## Targets',
    '',
    'Ratios a / b: the median of the per-round ratios, and (in brackets) their lowest and highest.',
    '',
    '| Target | Measure | Throughput | Server CPU per request | Goal | Met |',
    '|---|---|---:|---:|---|:---:|',
    ...comparisons(results).map((row) => comparisonRow(results, row)),
    ...microTargetRows(results),
    ...startupTargetRows(results),
    '',
    results.problems.length
      ? `**Wrong answers or errors during the run:** ${results.problems.join('; ')}`
      : 'Every request got the expected answer (2xx / OK when accepted, 401 / 16 when rejected), with no errors.',
    '',
    '## Throughput',
    '',
    '![Throughput per variant, as a share of no guard](bench/results/throughput.svg)',
    '',
  ];
  for (const target of settings.targets) {
    lines.push(
      `### ${TARGET_LABELS[target]}`,
      '',
      '| Variant | Median req/s | Min – max | Spread | p50 | p99 | vs no guard | vs no-op | Server CPU per request |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const variant of settings.variants) {
      const row = isPlain(variant) ? undefined : throughputRow(results, target, variant, LABELS[variant], ['none', 'noop']);
      if (row) lines.push(row);
    }
    lines.push('');
  }
  lines.push(...plainSection(results));
  const runs = microRuns(results);
  if (runs) {
    const medianOf = (name: string) => runs.map((run) => run.tasks.find((task) => task.name === name)!.medianNs);
    lines.push(
      '## Micro: `canActivate` per path, against floors measured beside it',
      '',
      `A real \`DaprAuthGuard\` from a Nest application context, called with a prepared HTTP, GraphQL (a resolver's:`,
      '`[root, args, gqlContext, info]`, the token in `gqlContext.req`) or gRPC execution context (`bench/micro.ts`), in',
      `${runs.length} pairs of processes of ${runs[0].rounds} rounds; every round calls every task for a batch of ${runs[0].batch} calls, in a rotated order,`,
      'so a slow spell of the machine hits every task alike. Of each pair, one process runs only the HTTP tasks, as in an',
      'HTTP app whose guard sees nothing else (V8 keeps one set of type feedback per function, shared by every guard of a',
      'process), and the HTTP goals are read there; the other runs every task, GraphQL, gRPC, JWT and metrics guards',
      'included, and its rows that the first also measures are named `mixed:` / `[mixed process]` and stated. Each task calls `canActivate` from code of its own, as a Nest',
      'app calls its guards from `tryActivate`: V8 inlines a guard into its caller or not by what else that call site has',
      'seen. Floors: a no-op guard; the least a constant-time check can do (read the header, check it is a string, compare',
      'every code unit and the length: a `charCodeAt` loop); the check an app writes itself, `crypto.timingSafeEqual` of',
      'the header against the token; a guard that throws a ready-made 401 and returns on some calls, so that V8 optimises',
      'it; and each constant-time check followed by that throw on a mismatch. A wrong token is held to the constant-time',
      'guard that throws (`timingSafeEqual`), a missing token, which needs no compare, to the throw alone. The rows "a new',
      'request object per call" give the guard a new request each call, as a server does: the guard marks each accepted',
      'request (a property under a symbol of its own; a WeakSet cost ten times more), which a reused context already has. "Through the',
      'message-handler gate": the guard class `global: true` puts on a gRPC handler, resolved as Nest resolves it, against',
      "the DaprAuthGuard it hands the call to. Tokens are flat strings, as Node's HTTP parser makes them. A goal is the",
      'median over rounds of the per-round ratio; below, the median over processes and their range. Absolute ns differ',
      '2-5× between machines (and processes): they are information only. Where the rejecting ratios stand and why:',
      'bench/history.md.',
      '',
      '| Ratio | Median (range over processes) | Goal |',
      '|---|---:|---|',
      ...runs[0].goals.map(({ goal, max }) => {
        const ratios = runs.map((run) => run.goals.find((candidate) => candidate.goal === goal)!.ratio);
        return `| ${goal} | ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ${max === undefined ? 'stated' : `≤ ${max.toFixed(2)}×`} |`;
      }),
      '',
      '| Path | Median ns/call (range over processes) |',
      '|---|---:|',
      ...runs[0].tasks.map(({ name }) => {
        const values = medianOf(name);
        return `| ${name} | ${median(values).toFixed(0)} (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}) |`;
      }),
      '',
    );
  }
  if (results.memory) {
    const { calls, before, afterFirst, afterSecond } = results.memory;
    const row = (label: string, reading: MemoryReading) => `| ${label} | ${reading.heapUsedMB.toFixed(2)} MB | ${reading.rssMB.toFixed(1)} MB |`;
    lines.push(
      '## Memory',
      '',
      `Heap (after GC) and RSS around ${int(calls)} guard calls, half accepted and half rejected, each with a new request`,
      'object, then as many again (`bench/memory.ts`). The second batch must add nothing: nothing per request is kept.',
      '',
      '| After | Heap used | RSS |',
      '|---|---:|---:|',
      row('warm-up', before),
      row(`${int(calls)} calls`, afterFirst),
      row(`${int(calls * 2)} calls`, afterSecond),
      '',
      `Heap growth over the second ${int(calls)} calls: ${((afterSecond.heapUsedMB - afterFirst.heapUsedMB) * 1024).toFixed(0)} kB.`,
      '',
    );
  }
  if (results.startup) lines.push(...startupSection(results.startup));
  lines.push(
    '## Running it',
    '',
    '```bash',
    'npm run bench                                   # everything, about 15 minutes on 2 cores (fresh servers every round)',
    'npm run bench -- --targets fastify --variants noop,dapr-valid --rounds 9 --duration 5',
    'npm run bench -- --help',
    '```',
    '',
    'Flags: `--duration <s>` (2), `--connections <n>` (32), `--rounds <n>` (7), `--variants` (of',
    '`none,noop,dapr-valid,floor-reject,dapr-reject,dapr-reject-logged,passport,plain-check,plain-dapr`), `--targets` (of `express,fastify,grpc`),',
    '`--driver auto|wrk|autocannon` (HTTP load; auto: wrk when installed: `apt-get install wrk`; gRPC uses ghz when it is on the PATH or in `GHZ_BIN`),',
    '`--same-servers` (start the servers once, not every round: faster, but identical processes differ by 10–15 %),',
    '`--micro-time <ms>`, `--memory-calls <n>`, `--startup-reps <n>` (as many as `--rounds`, at most 7), `--no-micro`,',
    '`--no-memory`, `--no-startup`, `--no-write`, `--render` (only',
    'regenerate this file from `bench/results/latest.json`). Results go to',
    '`bench/results/<date>.json` and `latest.json`; this file and the chart are regenerated from them.',
    '',
  );
  if (history.trim()) lines.push(history.trim(), '');
  return lines.join('\n');
}

export function renderSvg(results: Results): string {
  const variants = results.settings.variants;
  const colors: Record<VariantName, string> = {
    none: '#9e9e9e',
    noop: '#616161',
    'dapr-valid': '#1565c0',
    'floor-reject': '#424242',
    'dapr-reject': '#64b5f6',
    'dapr-reject-logged': '#90caf9',
    passport: '#ef6c00',
    'plain-check': '#757575',
    'plain-dapr': '#2e7d32',
  };
  const barHeight = 16;
  const groupGap = 28;
  const left = 250;
  const width = 760;
  const scaleWidth = width - left - 80;
  const groups = results.settings.targets.map((target) => ({
    target,
    // Nest's variants only: the plain apps are another server, in a table of their own.
    bars: variants.flatMap((variant) => {
      const samples = isPlain(variant) ? [] : samplesOf(results, target, variant);
      return samples.length ? [{ variant, rps: median(samples.map((s) => s.requestsPerSecond)), vsNone: pairedRatio(results, target, variant, 'none') }] : [];
    }),
  }));
  let y = 40;
  const parts: string[] = [];
  for (const group of groups) {
    parts.push(`<text x="10" y="${y}" font-weight="bold">${TARGET_LABELS[group.target]}</text>`);
    y += 10;
    const max = Math.max(...group.bars.map((bar) => bar.rps));
    for (const bar of group.bars) {
      const w = (bar.rps / max) * scaleWidth;
      parts.push(
        `<text x="${left - 8}" y="${y + 12}" text-anchor="end">${LABELS[bar.variant]}</text>`,
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colors[bar.variant]}"/>`,
        `<text x="${left + w + 6}" y="${y + 12}">${int(bar.rps)}/s${bar.variant !== 'none' && bar.vsNone !== undefined ? ` (${(bar.vsNone * 100).toFixed(0)} %)` : ''}</text>`,
      );
      y += barHeight + 4;
    }
    y += groupGap;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14">Median throughput per variant (share of no guard), ${results.date.slice(0, 10)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
