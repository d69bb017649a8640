import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeletAtomicWriter } from '../../../../test/support/atomic-writer.js';
import { registerSecret } from '../../../../test/support/secrets.js';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import { FileTokenSource, type FileTokenSourceOptions } from './file-token-source.js';

const FIRST = 'file-token-first-0123456789abcdefghijklmnop';
const SECOND = 'file-token-second-0123456789abcdefghijklmno';
const THIRD = 'file-token-third-0123456789abcdefghijklmnop';
registerSecret(FIRST, SECOND, THIRD);

async function eventually(probe: () => boolean, what: string, timeoutMs = 3000): Promise<number> {
  const started = Date.now();
  while (!probe()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('FileTokenSource', () => {
  let dir: string;
  let writer: KubeletAtomicWriter;
  let source: FileTokenSource | undefined;
  const logs: Array<['log' | 'error', string]> = [];
  const logger = { log: (message: unknown) => logs.push(['log', String(message)]), error: (message: unknown) => logs.push(['error', String(message)]) };

  const open = (options: Partial<FileTokenSourceOptions> = {}) => {
    source = new FileTokenSource({ path: writer.tokenPath, logger, pollInterval: 60_000, gracePeriod: 60_000, ...options });
    return source;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dapr-token-'));
    writer = new KubeletAtomicWriter(dir);
    logs.length = 0;
  });

  afterEach(() => {
    source?.close();
    source = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the file content, trimmed (a Secret written with echo ends in a newline)', () => {
    writer.write({ token: `${FIRST}\n` });
    expect(open().getTokens()).toEqual([FIRST]);
  });

  it.each([
    ['missing', () => undefined, 'does not exist'],
    ['empty', (w: KubeletAtomicWriter) => w.write({ token: '  \n' }), 'is empty'],
    ['invalid', (w: KubeletAtomicWriter) => w.write({ token: `${FIRST} and more` }), 'does not hold a valid token'],
    ['a directory', (w: KubeletAtomicWriter) => mkdirSync(w.tokenPath), 'cannot be read'],
  ])('refuses to start when the file is %s, naming the file and not its content', (_case, prepare, problem) => {
    prepare(writer);
    let error: unknown;
    try {
      open();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DaprAuthConfigError);
    expect((error as Error).message).toContain(`token file ${writer.tokenPath} ${problem}`);
    expect((error as Error).message).toContain('without subPath');
    expect((error as Error).message).not.toContain(FIRST.slice(0, 10));
  });

  it('follows two kubelet swaps through the directory watch, long before the poll, keeping the previous token for the grace period', async () => {
    writer.write({ token: FIRST });
    const tokens = open({ gracePeriod: 400 });
    const snapshot = tokens.getTokens();
    expect(tokens.getTokens()).toBe(snapshot); // same reference while nothing changes

    writer.write({ token: SECOND });
    const detectedAfter = await eventually(() => tokens.getTokens()[0] === SECOND, 'the first swap');
    expect(detectedAfter).toBeLessThan(1000); // the poll is 60 s away: the watch saw it
    expect(tokens.getTokens()).toEqual([SECOND, FIRST]);
    expect(Object.isFrozen(tokens.getTokens())).toBe(true);
    await eventually(() => tokens.getTokens().length === 1, 'the grace period to end', 2000);
    expect(tokens.getTokens()).toEqual([SECOND]);

    writer.write({ token: THIRD }); // the second swap: a watch on the file itself would miss it
    await eventually(() => tokens.getTokens()[0] === THIRD, 'the second swap');
    expect(tokens.getTokens()).toEqual([THIRD, SECOND]);
    expect(logs.filter(([level]) => level === 'log')).toHaveLength(2);
  });

  it('keeps every earlier token until its own grace period ends when rotations follow each other', async () => {
    writer.write({ token: FIRST });
    const tokens = open({ gracePeriod: 600 });
    writer.write({ token: SECOND });
    await eventually(() => tokens.getTokens()[0] === SECOND, 'the first swap');
    await sleep(300);
    writer.write({ token: THIRD });
    await eventually(() => tokens.getTokens()[0] === THIRD, 'the second swap');
    expect(tokens.getTokens()).toEqual([THIRD, FIRST, SECOND]);
    await eventually(() => !tokens.getTokens().includes(FIRST), 'the first token to expire');
    expect(tokens.getTokens()).toEqual([THIRD, SECOND]);
    await eventually(() => tokens.getTokens().length === 1, 'the second token to expire');
  });

  it('goes back to an earlier token without keeping it twice', async () => {
    writer.write({ token: FIRST });
    const tokens = open();
    writer.write({ token: SECOND });
    await eventually(() => tokens.getTokens()[0] === SECOND, 'the swap');
    writer.write({ token: FIRST }); // rolled back
    await eventually(() => tokens.getTokens()[0] === FIRST, 'the roll-back');
    expect(tokens.getTokens()).toEqual([FIRST, SECOND]);
  });

  it('picks up a change no directory event reports, through the poll', async () => {
    writer.write({ token: FIRST });
    const tokens = open({ pollInterval: 150 });
    // Rewrite the payload inside the timestamped directory: the watched directory sees nothing.
    writeFileSync(join(dir, readlinkSync(join(dir, '..data')), 'token'), SECOND);
    await sleep(60);
    expect(tokens.getTokens()[0]).toBe(FIRST);
    await eventually(() => tokens.getTokens()[0] === SECOND, 'the poll to see the change', 1000);
  });

  it('keeps the last good token through a missing, unreadable, empty or invalid file, logs each failure once, and recovers', async () => {
    writer.write({ token: FIRST });
    const tokens = open({ pollInterval: 100 });
    const errors = () => logs.filter(([level]) => level === 'error').map(([, message]) => message);

    const faults: Array<[string, () => void, string]> = [
      ['deleted', () => unlinkSync(writer.tokenPath), 'does not exist'],
      ['replaced by a directory (root reads any file, so this is how the test makes it unreadable)', () => mkdirSync(writer.tokenPath), 'cannot be read'],
      [
        'emptied',
        () => {
          rmSync(writer.tokenPath, { recursive: true });
          writeFileSync(writer.tokenPath, '');
        },
        'is empty',
      ],
      ['garbage', () => writeFileSync(writer.tokenPath, 'not\u0000a token\n'), 'does not hold a valid token'],
    ];
    for (const [, breakIt, problem] of faults) {
      breakIt();
      await eventually(() => errors().some((message) => message.includes(problem)), `the error "${problem}"`);
      await sleep(350); // three more polls of the same failure
      expect(errors().filter((message) => message.includes(problem))).toHaveLength(1);
      expect(tokens.getTokens()).toEqual([FIRST]);
    }

    rmSync(writer.tokenPath, { force: true });
    writeFileSync(writer.tokenPath, `${SECOND}\n`);
    await eventually(() => tokens.getTokens()[0] === SECOND, 'recovery with the new token');
    expect(tokens.getTokens()).toEqual([SECOND, FIRST]);
    expect(logs.some(([level, message]) => level === 'log' && message.includes('readable again'))).toBe(true);
    for (const [, message] of logs) {
      for (const token of [FIRST, SECOND]) expect(message).not.toContain(token.slice(0, 10));
    }
  });

  it('stops following the file once closed (no watcher, no timer), and follows it again when used after that (a restart)', async () => {
    writer.write({ token: FIRST });
    const tokens = open({ pollInterval: 100 });
    tokens.close();
    const readBefore = tokens.status().lastGoodReadAt;
    writer.write({ token: SECOND });
    await sleep(300);
    expect(tokens.status().lastGoodReadAt).toBe(readBefore); // nothing read it in the background
    // Used again (a microservice listening after close(), with no hook): read now, and followed again.
    expect(tokens.getTokens()).toEqual([SECOND, FIRST]);
    writer.write({ token: THIRD });
    await eventually(() => tokens.getTokens()[0] === THIRD, 'the watcher or the poll again');
  });

  describe('reads only a small regular file (a FIFO hung start-up, /dev/zero was read until memory ran out)', () => {
    it.each([
      ['a FIFO nothing writes to', () => (execFileSync('mkfifo', [join(dir, 'fifo')]), join(dir, 'fifo'))],
      ['/dev/zero', () => '/dev/zero'],
      ['a directory', () => dir],
      ['a file larger than maxTokenLength + the whitespace allowance', () => (writeFileSync(join(dir, 'big'), 'a'.repeat(64 * 1024)), join(dir, 'big'))],
    ])('%s: refused at once with DaprAuthConfigError', (_what, makePath) => {
      // Before, the FIFO blocked this (synchronous) read for good: the test would never end.
      expect(() => open({ path: makePath() })).toThrow(DaprAuthConfigError);
    });
  });
});
