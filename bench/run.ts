// `npm run bench [-- flags]`: what DaprAuthGuard costs, measured against a no-guard baseline, a
// no-op guard (the floor for accepting), a guard that throws a ready-made 401 / RpcException 16
// (the floor for rejecting) and @nestjs/passport with passport-headerapikey, in one run on one
// machine; nestjs-dapr-auth/standalone in plain Express and Fastify apps (no Nest) against a minimal
// inline check; and what DaprAuthModule adds to start-up (bench/startup.ts). HTTP load comes from
// wrk when it is installed (C, one thread: it saturates a Nest server from one core, which
// autocannon cannot), else autocannon; gRPC load from ghz when it is on the PATH (or GHZ_BIN), else
// a @grpc/grpc-js client in this process.
// Writes bench/results/<date>.json (and latest.json), bench/results/throughput.svg and BENCHMARKS.md.
import type { MicroRun } from './report.js';
import { spawn, spawnSync, type ChildProcess, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import autocannon from 'autocannon';
import { APP_CALLBACK_PROTO, DAPR_PROTO_LOADER_OPTIONS } from '../src/dapr-protos.js';
import { BENCH_TOKEN, WRONG_TOKEN } from './bench-token.js';
import { renderMarkdown, renderSvg, type Results, type Sample, type Target, type VariantName } from './report.js';

const here = dirname(fileURLToPath(import.meta.url)); // bench/dist/bench
const repo = join(here, '../../..');
const ALL_VARIANTS: VariantName[] = [
  'none',
  'noop',
  'dapr-valid',
  'floor-reject',
  'dapr-reject',
  'dapr-reject-logged',
  'passport',
  'plain-check',
  'plain-dapr',
];
const ALL_TARGETS: Target[] = ['express', 'fastify', 'grpc'];

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '7' },
    variants: { type: 'string', default: ALL_VARIANTS.join(',') },
    targets: { type: 'string', default: ALL_TARGETS.join(',') },
    'micro-time': { type: 'string', default: '1500' },
    'micro-runs': { type: 'string', default: '5' },
    'memory-calls': { type: 'string', default: '1000000' },
    'startup-reps': { type: 'string' },
    'no-micro': { type: 'boolean', default: false },
    'no-memory': { type: 'boolean', default: false },
    'no-startup': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
    driver: { type: 'string', default: 'auto' },
    'same-servers': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(`npm run bench -- [flags]
  --duration <s>        seconds per measured run (default 2)
  --connections <n>     concurrent connections / in-flight gRPC calls (default 32)
  --rounds <n>          interleaved rounds, medians taken over them (default 7; Express, the noisiest, needs 7 or more)
  --variants <list>     of ${ALL_VARIANTS.join(',')} (gRPC has no passport variant;
                        plain-check and plain-dapr are plain Express / Fastify apps without Nest)
  --targets <list>      of ${ALL_TARGETS.join(',')}
  --micro-time <ms>     time per micro-benchmark task in each process (default 1500)
  --micro-runs <n>      micro-benchmark processes (default 5): one process can run slower for its whole life
  --memory-calls <n>    guard calls per memory phase (default 1000000)
  --startup-reps <n>    start-ups of each app in the start-up benchmark (default: as many as --rounds, at most 7)
  --driver <name>       HTTP load generator: auto (wrk if installed, else autocannon), wrk or autocannon
  --same-servers        start the servers once, not afresh for every round (faster; two processes of the
                        same server can differ by 10 % for their whole life, which fresh ones average out)
  --no-micro, --no-memory, --no-startup, --no-write   skip a part; --no-write prints without writing files
  --render              only regenerate BENCHMARKS.md and the chart from bench/results/latest.json`);
  process.exit(0);
}
if (flags.render) {
  const latest = JSON.parse(readFileSync(join(repo, 'bench/results/latest.json'), 'utf8')) as Results;
  writeFileSync(join(repo, 'BENCHMARKS.md'), renderMarkdown(latest, readFileSync(join(repo, 'bench/history.md'), 'utf8')));
  writeFileSync(join(repo, 'bench/results/throughput.svg'), renderSvg(latest));
  console.log('regenerated BENCHMARKS.md and bench/results/throughput.svg from bench/results/latest.json');
  process.exit(0);
}
const duration = Number(flags.duration);
const connections = Number(flags.connections);
const rounds = Number(flags.rounds);
const variants = flags.variants.split(',') as VariantName[];
const targets = flags.targets.split(',') as Target[];
for (const value of [duration, connections, rounds]) if (!(value > 0)) throw new Error('--duration, --connections and --rounds must be positive numbers');
for (const variant of variants) if (!ALL_VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}; use ${ALL_VARIANTS.join(',')}`);
for (const target of targets) if (!ALL_TARGETS.includes(target)) throw new Error(`unknown target ${target}; use ${ALL_TARGETS.join(',')}`);
if (!['auto', 'wrk', 'autocannon'].includes(flags.driver)) throw new Error('--driver must be auto, wrk or autocannon');

/** A command's version line, or undefined when it cannot run. */
function versionOfCommand(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) return undefined;
  return `${result.stdout}${result.stderr}`
    .split('\n')
    .find((line) => line.trim())
    ?.trim();
}
// wrk prints its version (and exits 1) for an unknown flag.
const wrkVersion = flags.driver === 'autocannon' ? undefined : versionOfCommand('wrk', ['--version'])?.match(/wrk \S+/)?.[0];
if (flags.driver === 'wrk' && !wrkVersion) throw new Error('--driver wrk: wrk is not installed (Debian/Ubuntu: apt-get install wrk)');
const ghzBin = process.env.GHZ_BIN || 'ghz';
const ghzVersion = versionOfCommand(ghzBin, ['--version']);
const drivers = {
  http: wrkVersion ?? `autocannon ${JSON.parse(readFileSync(join(repo, 'node_modules/autocannon/package.json'), 'utf8')).version}`,
  grpc: ghzVersion ? `ghz${/^v?\d/.test(ghzVersion) ? ` ${ghzVersion.replace(/^v/, '')}` : ''}` : '@grpc/grpc-js client (in the bench process)',
};

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s`;
const log = (line: string) => console.log(`[${elapsed()}] ${line}`);

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** Which server a variant runs against, and the token its client sends. */
function serverOf(variant: VariantName): { server: string; token?: string } {
  switch (variant) {
    case 'none':
    case 'noop':
      return { server: variant, token: BENCH_TOKEN };
    case 'dapr-valid':
      return { server: 'dapr', token: BENCH_TOKEN };
    case 'dapr-reject':
      return { server: 'dapr', token: WRONG_TOKEN };
    case 'dapr-reject-logged':
      return { server: 'dapr-logged', token: WRONG_TOKEN };
    case 'floor-reject':
      return { server: 'throw', token: WRONG_TOKEN };
    case 'passport':
    case 'plain-check':
    case 'plain-dapr':
      return { server: variant, token: BENCH_TOKEN };
  }
}
/** The plain (no Nest) variants: HTTP only, served by plain-server.ts. */
const isPlain = (server: string) => server.startsWith('plain-');
const expectsRejection = (variant: VariantName) => variant === 'dapr-reject' || variant === 'dapr-reject-logged' || variant === 'floor-reject';
const plan = targets.flatMap((target) =>
  variants.filter((variant) => !(target === 'grpc' && (variant === 'passport' || isPlain(variant)))).map((variant) => ({ target, variant })),
);

// ---------------------------------------------------------------- servers
const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
process.on('SIGINT', () => process.exit(130));

// With taskset and 2+ cores, the servers share the last core and the load generator (this
// process) gets the others: the variants then differ only by their code, not by where the
// scheduler happened to put them.
const pinning = (() => {
  if (process.platform !== 'linux' || cpus().length < 2) return undefined;
  try {
    const last = cpus().length - 1;
    execFileSync('taskset', ['-a', '-p', '-c', `0-${last - 1}`, String(process.pid)], { stdio: 'ignore' });
    return String(last);
  } catch {
    return undefined; // no taskset: unpinned, noisier
  }
})();

async function startServer(target: Target, server: string): Promise<number> {
  const port = await freePort();
  const args = [join(here, isPlain(server) ? 'plain-server.js' : 'server.js'), target, server, String(port)];
  const child = pinning
    ? spawn('taskset', ['-c', pinning, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${target}/${server} server exited (${code})`)));
    // Stays attached: it also drains what the server logs (the logged-rejection variant).
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('READY') && resolve());
  });
  pids.set(port, child.pid!); // taskset execs node: same pid
  return port;
}

const ports = new Map<string, number>();
const pids = new Map<number, number>(); // port -> server pid

/** CPU time (user + system) the process has used, in µs; undefined where /proc is not available. */
function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000; // clock ticks of 10 ms
  } catch {
    return undefined;
  }
}
log(pinning ? `servers pinned to CPU ${pinning}, load generator to the others (taskset)` : 'servers and load generator not pinned (no taskset or 1 core)');
const serverKeys = [...new Set(plan.map(({ target, variant }) => `${target}/${serverOf(variant).server}`))];

/**
 * Stops the running servers and starts every one afresh, in an order rotated by `round`: the same
 * server in two processes can differ by 10 % for the process's whole life (JIT and memory layout),
 * so each round measures new processes, and the median over rounds averages that out.
 */
async function startServers(round: number): Promise<void> {
  for (const clients of grpcClients.values()) clients.forEach((client) => client.close());
  grpcClients.clear();
  await Promise.all(
    children
      .splice(0)
      .map((child) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM'))))),
  );
  ports.clear();
  pids.clear();
  const shift = round % serverKeys.length;
  for (const key of [...serverKeys.slice(shift), ...serverKeys.slice(0, shift)]) {
    const [target, server] = key.split('/') as [Target, string];
    ports.set(key, await startServer(target, server));
  }
}

// ---------------------------------------------------------------- load
function grpcClientFor(port: number) {
  const definition = protoLoader.loadSync(APP_CALLBACK_PROTO, DAPR_PROTO_LOADER_OPTIONS);
  const AppCallback = (grpc.loadPackageDefinition(definition) as any).dapr.proto.runtime.v1.AppCallback;
  return new AppCallback(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

type Load = Omit<Sample, 'round' | 'target' | 'variant' | 'serverCpuUsPerRequest'>;

/** A wrk time ("812.00us", "1.20ms", "2.01s") in ms. */
function wrkMs(value: string, unit: string): number {
  return Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60000 }[unit] ?? Number.NaN);
}

/** One wrk run (one thread, on the load generator's CPUs): requests, latency and answers, from its report. */
async function loadWithWrk(port: number, token: string | undefined, seconds: number): Promise<Load> {
  const args = ['-t1', `-c${connections}`, `-d${Math.max(1, Math.round(seconds))}s`, '--latency'];
  if (token) args.push('-H', `dapr-api-token: ${token}`);
  args.push(`http://127.0.0.1:${port}/orders/1`);
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(output);
  if (code !== 0 || !total) throw new Error(`wrk ${args.join(' ')} failed (${code}):\n${output}`);
  const requests = Number(total[1]);
  const percentile = (p: string) => {
    const match = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)`).exec(output);
    return match ? wrkMs(match[1], match[2]) : 0;
  };
  const rejected = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requestsPerSecond: requests / (wrkMs(total[2], total[3]) / 1000),
    p50Ms: percentile('50'),
    p99Ms: percentile('99'),
    accepted: requests - rejected,
    rejected,
    errors: socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

async function loadHttp(port: number, token: string | undefined, seconds: number): Promise<Load> {
  if (wrkVersion) return loadWithWrk(port, token, seconds);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/orders/1`,
    connections,
    duration: seconds,
    headers: token ? { 'dapr-api-token': token } : {},
  });
  return {
    requestsPerSecond: result.requests.total / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    accepted: result['2xx'],
    rejected: result['4xx'],
    errors: result.errors + result.timeouts + result['5xx'],
  };
}

/** One ghz run: requests, latency and status codes from its JSON report. */
async function loadWithGhz(port: number, token: string | undefined, seconds: number): Promise<Load> {
  const args = [
    '--insecure',
    '--proto',
    APP_CALLBACK_PROTO,
    '--import-paths',
    DAPR_PROTO_LOADER_OPTIONS.includeDirs.join(','),
    '--call',
    'dapr.proto.runtime.v1.AppCallback/OnInvoke',
    '--data',
    JSON.stringify({ method: 'orders', content_type: 'application/json' }),
    '--concurrency',
    String(connections),
    '--connections',
    '4',
    '--duration',
    `${seconds}s`,
    '--total',
    '0',
    '--format',
    'json',
    ...(token ? ['--metadata', JSON.stringify({ 'dapr-api-token': token })] : []),
    `127.0.0.1:${port}`,
  ];
  const child = spawn(ghzBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let errorOutput = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (errorOutput += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  let report: {
    count: number;
    total: number;
    rps: number;
    latencyDistribution?: Array<{ percentage: number; latency: number }>;
    statusCodeDistribution?: Record<string, number>;
  };
  try {
    report = JSON.parse(output);
  } catch {
    throw new Error(`ghz failed (${code}):\n${errorOutput}${output}`);
  }
  // ns → ms; ghz gives no distribution when no call succeeded (a run of rejections): NaN, shown as "—".
  const latency = (percentage: number) => (report.latencyDistribution?.find((entry) => entry.percentage === percentage)?.latency ?? Number.NaN) / 1e6;
  const statuses = report.statusCodeDistribution ?? {};
  const accepted = statuses.OK ?? 0;
  const rejected = statuses.Unauthenticated ?? 0;
  return {
    requestsPerSecond: report.count / (report.total / 1e9),
    p50Ms: latency(50),
    p99Ms: latency(99),
    accepted,
    rejected,
    // (ghz stops its in-flight calls at the deadline: those end as Canceled / Unavailable, not server errors.)
    errors: Object.entries(statuses).reduce((sum, [status, n]) => (['OK', 'Unauthenticated', 'Canceled', 'Unavailable'].includes(status) ? sum : sum + n), 0),
  };
}

async function loadGrpc(port: number, token: string | undefined, seconds: number): Promise<Load> {
  if (ghzVersion) return loadWithGhz(port, token, seconds);
  const clients =
    grpcClients.get(port) ??
    grpcClients
      .set(
        port,
        Array.from({ length: 4 }, () => grpcClientFor(port)),
      )
      .get(port)!;
  const metadata = new grpc.Metadata();
  if (token) metadata.set('dapr-api-token', token);
  const request = { method: 'orders', data: { typeUrl: '', value: Buffer.from('{}') }, contentType: 'application/json' };
  let accepted = 0;
  let rejected = 0;
  let errors = 0;
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  const worker = async (client: (typeof clients)[number]) => {
    while (Date.now() < end) {
      const sent = process.hrtime.bigint();
      await new Promise<void>((resolve) =>
        client.OnInvoke(request, metadata, (error: grpc.ServiceError | null) => {
          if (!error) accepted++;
          else if (error.code === grpc.status.UNAUTHENTICATED) rejected++;
          else errors++;
          latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
          resolve();
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, i) => worker(clients[i % clients.length])));
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: (accepted + rejected + errors) / seconds,
    p50Ms: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
    p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    accepted,
    rejected,
    errors,
  };
}
const grpcClients = new Map<number, Array<ReturnType<typeof grpcClientFor>>>();

async function load(target: Target, variant: VariantName, seconds: number) {
  const { server, token } = serverOf(variant);
  const port = ports.get(`${target}/${server}`)!;
  const cpuBefore = cpuMicros(pids.get(port));
  const result = await (target === 'grpc' ? loadGrpc(port, token, seconds) : loadHttp(port, token, seconds));
  const cpuAfter = cpuMicros(pids.get(port));
  const requests = result.requestsPerSecond * seconds;
  // The server's own CPU per request: unlike throughput, it does not depend on how fast the load
  // generator is, so it shows small differences that a saturated client hides.
  const serverCpuUsPerRequest = cpuBefore !== undefined && cpuAfter !== undefined && requests > 0 ? (cpuAfter - cpuBefore) / requests : undefined;
  return { ...result, serverCpuUsPerRequest };
}

log(`load: HTTP ${drivers.http}, gRPC ${drivers.grpc}`);
const samples: Sample[] = [];
const problems: string[] = [];
const fresh = !flags['same-servers'];
const estimate = Math.ceil((fresh ? rounds : 1) * (serverKeys.length * 1.3 + plan.length * 2) + rounds * plan.length * (duration + 0.3));
log(
  `${rounds} interleaved rounds x ${plan.length} runs x ${duration} s (${connections} connections), ${fresh ? `${serverKeys.length} fresh servers and a 2 s warm-up each per round` : 'the same servers throughout'}, about ${estimate} s`,
);
for (let round = 1; round <= rounds; round++) {
  if (round === 1 || fresh) {
    await startServers(round);
    for (const { target, variant } of plan) await load(target, variant, 2); // warm-up: V8 optimises the hot path first
  }
  // Measured in an order rotated by round as well: a variant always measured late in a round would
  // carry whatever the machine does late in a round.
  const shift = (round - 1) % plan.length;
  for (const { target, variant } of [...plan.slice(shift), ...plan.slice(0, shift)]) {
    const sample = { round, target, variant, ...(await load(target, variant, duration)) };
    samples.push(sample);
    const wrong = expectsRejection(variant) ? sample.accepted : sample.rejected;
    if (wrong > 0 || sample.errors > 0) problems.push(`${target}/${variant} round ${round}: ${wrong} wrong answers, ${sample.errors} errors`);
    log(
      `round ${round}/${rounds}  ${target.padEnd(7)} ${variant.padEnd(11)} ${sample.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${sample.p50Ms.toFixed(2)} ms  p99 ${sample.p99Ms.toFixed(2)} ms` +
        (sample.serverCpuUsPerRequest !== undefined ? `  server ${sample.serverCpuUsPerRequest.toFixed(1)} µs CPU/req` : ''),
    );
  }
}
for (const clients of grpcClients.values()) clients.forEach((client) => client.close());
children.forEach((child) => child.kill('SIGTERM'));

// ---------------------------------------------------------------- micro and memory
function runJson(args: string[]): unknown {
  return JSON.parse(
    execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .pop()!,
  );
}
/** One HTTP-only and one mixed process as one run: the mixed process's tasks that the other also ran are named as such. */
function mergeMicroRuns(http: MicroRun, mixed: MicroRun): MicroRun {
  const inHttp = new Set(http.tasks.map((task) => task.name));
  const rename = (name: string) => (inHttp.has(name) ? `${name} [mixed process]` : name);
  return {
    rounds: http.rounds,
    batch: http.batch,
    tasks: [...http.tasks, ...mixed.tasks.map((task) => ({ ...task, name: rename(task.name) }))],
    goals: [...http.goals, ...mixed.goals.map((goal) => ({ ...goal, task: rename(goal.task), floor: rename(goal.floor) }))],
  };
}
let micro: Results['micro'];
if (!flags['no-micro']) {
  const runs = Math.max(1, Number(flags['micro-runs']) || 5);
  log(`micro: canActivate per path against floors measured beside it, interleaved, in ${runs} HTTP-only and ${runs} mixed processes`);
  // Each HTTP-only process is reported together with a mixed one (micro.ts --http-only says why both).
  micro = Array.from({ length: runs }, () => {
    const http = runJson([join(here, 'micro.js'), '--time', flags['micro-time'], '--http-only']) as MicroRun;
    const mixed = runJson([join(here, 'micro.js'), '--time', flags['micro-time']]) as MicroRun;
    return mergeMicroRuns(http, mixed);
  });
}
let memory: Results['memory'];
if (!flags['no-memory']) {
  log(`memory: heap and RSS after ${flags['memory-calls']} and twice that many guard calls`);
  memory = runJson(['--expose-gc', join(here, 'memory.js'), '--calls', flags['memory-calls']]) as Results['memory'];
}
let startup: Results['startup'];
if (!flags['no-startup']) {
  // As many pairs as rounds: a short run (--rounds 1) stays a few seconds, 5,000 handlers included.
  const reps = flags['startup-reps'] ?? String(Math.min(rounds, 7));
  log(`start-up: apps of 10, 1,000 and 5,000 routes with and without DaprAuthModule (global: true), ${reps} pair(s) each`);
  startup = runJson(['--expose-gc', join(here, 'startup.js'), '--reps', reps]) as Results['startup'];
}

// ---------------------------------------------------------------- report
const versionOf = (name: string) => JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')).version as string;
const results: Results = {
  date: new Date().toISOString(),
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  },
  versions: Object.fromEntries(
    [
      '@nestjs/core',
      '@nestjs/platform-express',
      '@nestjs/platform-fastify',
      '@nestjs/microservices',
      '@grpc/grpc-js',
      '@nestjs/passport',
      'passport-headerapikey',
      'autocannon',
      'express',
      'fastify',
    ].map((name) => [name, versionOf(name)]),
  ),
  settings: { duration, connections, rounds, variants, targets, pinned: Boolean(pinning), drivers, freshServers: fresh },
  samples,
  problems,
  micro,
  memory,
  startup,
};

const markdown = renderMarkdown(results, existsSync(join(repo, 'bench/history.md')) ? readFileSync(join(repo, 'bench/history.md'), 'utf8') : '');
if (flags['no-write']) {
  console.log(`\n${markdown}`);
} else {
  const dir = join(repo, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(join(dir, `${results.date.slice(0, 19).replace(/:/g, '-')}.json`), json);
  writeFileSync(join(dir, 'latest.json'), json);
  writeFileSync(join(dir, 'throughput.svg'), renderSvg(results));
  writeFileSync(join(repo, 'BENCHMARKS.md'), markdown);
  log('wrote BENCHMARKS.md, bench/results/latest.json, bench/results/throughput.svg');
  console.log(`\n${markdown.split('## Throughput')[1]?.split('## Micro')[0] ?? ''}`);
}
if (problems.length > 0) {
  console.error(`wrong answers or errors during the run:\n  ${problems.join('\n  ')}`);
  process.exitCode = 1;
}
