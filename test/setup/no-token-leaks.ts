import { capturedLines, findLeak } from '../support/secrets.js';

/**
 * Captures everything a test prints (process.stdout/stderr, which Nest's ConsoleLogger uses, and
 * console.*, which grpc-js uses) and fails the test if a registered token shows up in it.
 * The output reaches the terminal only with TEST_LOGS=1; otherwise test/setup/quiet-environment.js
 * shows it for a failed test only.
 */
const passThrough = process.env.TEST_LOGS === '1';
const captured = capturedLines();

const streams = [process.stdout, process.stderr] as const;
const originalWrites = streams.map((stream) => stream.write.bind(stream));
streams.forEach((stream, i) => {
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    if (passThrough) return (originalWrites[i] as (...args: unknown[]) => boolean)(chunk, ...rest);
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
});
for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    captured.push(
      `${args.map((arg) => (arg instanceof Error ? `${arg.message} ${arg.stack}` : typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}\n`,
    );
    if (passThrough) original(...args);
  };
}

beforeEach(() => {
  captured.length = 0;
});

// The output stays in `captured` after the test, for quiet-environment.js to show if it failed.
afterEach(() => {
  const leak = findLeak(captured.join('\n'));
  if (leak !== undefined) {
    throw new Error(`A token (length ${leak.length}) appeared in this test's log output.`);
  }
});

// Hand the streams back, so that the next test file (in the same process) starts from the real ones.
afterAll(() => {
  streams.forEach((stream, i) => (stream.write = originalWrites[i] as typeof stream.write));
});
