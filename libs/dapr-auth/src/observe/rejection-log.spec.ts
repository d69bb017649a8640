import { jest } from '@jest/globals';
import { RejectionLog } from './rejection-log.js';

function recordingLogger() {
  const lines: string[] = [];
  const write = (line: string) => lines.push(line);
  return { lines, logger: { log: write, error: write, warn: write, debug: write, verbose: write, fatal: write } };
}

describe('RejectionLog', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('admits the first `lines` rejections of a window, counts the rest, and writes one summary when the window ends', () => {
    const { lines, logger } = recordingLogger();
    const log = new RejectionLog(logger, 'warn', { lines: 3, windowMs: 10_000 });
    const admitted = Array.from({ length: 8 }, (_, i) => log.admit(i < 6 ? 'HTTP' : 'gRPC', i % 2 ? 'missing' : 'mismatch'));
    expect(admitted).toEqual([true, true, true, false, false, false, false, false]);
    expect(lines).toEqual([]); // the admitted ones are the caller's to write
    jest.advanceTimersByTime(9_999);
    expect(lines).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(lines).toEqual([
      '5 more rejection(s) not logged one by one in this window of 10000 ms (rejectionLogLimit: 3 lines per window); ' +
        'by transport and reason: HTTP missing: 2, HTTP malformed-or-mismatch: 1, gRPC malformed-or-mismatch: 1, gRPC missing: 1',
    ]);
  });

  it('opens a new window at the first rejection after one ended, with a fresh allowance', () => {
    const { lines, logger } = recordingLogger();
    const log = new RejectionLog(logger, 'warn', { lines: 1, windowMs: 1000 });
    expect([log.admit('HTTP', 'mismatch'), log.admit('HTTP', 'mismatch')]).toEqual([true, false]);
    jest.advanceTimersByTime(1000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^1 more rejection\(s\)/);
    expect(jest.getTimerCount()).toBe(0); // nothing runs between windows
    expect([log.admit('HTTP', 'mismatch'), log.admit('HTTP', 'mismatch')]).toEqual([true, false]);
  });

  it('writes nothing when every rejection of the window was admitted', () => {
    const { lines, logger } = recordingLogger();
    const log = new RejectionLog(logger, 'warn', { lines: 5, windowMs: 1000 });
    for (let i = 0; i < 5; i++) log.admit('HTTP', 'missing');
    jest.advanceTimersByTime(1000);
    expect(lines).toEqual([]);
  });

  it('flush() at shutdown writes what was counted so far, once', () => {
    const { lines, logger } = recordingLogger();
    const log = new RejectionLog(logger, 'error', { lines: 1, windowMs: 60_000 });
    log.admit('HTTP', 'missing');
    log.admit('HTTP', 'missing');
    log.flush();
    log.flush();
    expect(lines).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('admits everything without a limit, and nothing when rejections are not logged', () => {
    const { logger } = recordingLogger();
    const unlimited = new RejectionLog(logger, 'warn', undefined);
    const silent = new RejectionLog(logger, false, { lines: 10, windowMs: 1000 });
    expect(Array.from({ length: 50 }, () => unlimited.admit('HTTP', 'missing')).every(Boolean)).toBe(true);
    expect(silent.admit('HTTP', 'missing')).toBe(false);
  });
});
