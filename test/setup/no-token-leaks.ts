import { capturedLines, findLeak } from '../support/secrets.js';

/**
 * Captures everything a test prints (process.stdout/stderr, which Nest's ConsoleLogger uses, and
 * console.*, which grpc-js uses) and fails the test if a registered token shows up in it.
 * The output still reaches the terminal.
 */
const captured = capturedLines();

const streams = [process.stdout, process.stderr] as const;
const originalWrites = streams.map((stream) => stream.write.bind(stream));
streams.forEach((stream, i) => {
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return (originalWrites[i] as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof stream.write;
});
for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    captured.push(args.map((arg) => (arg instanceof Error ? `${arg.message} ${arg.stack}` : typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
    original(...args);
  };
}

beforeEach(() => {
  captured.length = 0;
});

afterEach(() => {
  const leak = findLeak(captured.join('\n'));
  captured.length = 0;
  if (leak !== undefined) {
    throw new Error(`A token (length ${leak.length}) appeared in this test's log output.`);
  }
});
