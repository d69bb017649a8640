import { DEFAULT_MAX_TOKEN_LENGTH, TOKEN_FILE_WHITESPACE_ALLOWANCE } from '../dapr-auth.constants.js';
import { shownPath } from '../option-checks.js';
import { readSmallRegularFile } from '../tokens/read-small-regular-file.js';
import { UsageError } from './usage-error.js';

/**
 * Every input the token tool reads is bounded in size and in time, so that a FIFO nobody writes
 * to, `/dev/zero` or a pipe left open cannot hang it or fill its memory.
 */

/** Most bytes read for a token: the module's longest token and the whitespace a token file may hold. */
export const TOKEN_INPUT_LIMIT = DEFAULT_MAX_TOKEN_LENGTH + TOKEN_FILE_WHITESPACE_ALLOWANCE;

/** Most bytes read for a secret, a PEM key or a JWKS: far above any real one. */
export const KEY_INPUT_LIMIT = 1024 * 1024;

/** How long standard input may take to arrive and end, in seconds, unless `--stdin-timeout` says otherwise. */
export const DEFAULT_STDIN_TIMEOUT_SECONDS = 10;

const WHY: Record<'missing' | 'unreadable' | 'not-a-file', string> = {
  missing: 'it does not exist',
  unreadable: 'permission denied or an I/O error',
  'not-a-file': 'not a regular file (a FIFO, a device or a directory); the tool reads regular files only, and standard input',
};

/**
 * The content of the file an option names: a regular file of at most `maxBytes` bytes, read
 * without waiting (see readSmallRegularFile). A failure names the option and the file as shown by
 * shownPath, never the content.
 */
export function readFileOption(option: string, path: string, maxBytes: number): string {
  const read = readSmallRegularFile(path, maxBytes);
  if ('content' in read) return read.content;
  const why = read.failure === 'too-large' ? `larger than ${maxBytes} bytes, more than it can hold` : WHY[read.failure];
  throw new UsageError(`cannot read --${option} ${shownPath(path)}: ${why}.`);
}

/**
 * All of standard input, as UTF-8: at most `maxBytes` bytes, ended within `timeoutSeconds`. Past
 * either limit it stops reading and throws; standard input is then closed, so that the process
 * can exit even when the writer keeps its end open.
 */
export function readStandardInput(maxBytes: number, timeoutSeconds: number): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (failure?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stdin.removeAllListeners('data').removeAllListeners('end');
      stdin.destroy();
      if (failure === undefined) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(new UsageError(failure));
    };
    const timer = setTimeout(
      () => finish(`standard input did not end within ${timeoutSeconds} s (--stdin-timeout): pipe the token in, or use --token-file / --token-env.`),
      timeoutSeconds * 1000,
    );
    stdin.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish(`standard input holds more than ${maxBytes} bytes: more than one token can be.`);
      else chunks.push(chunk);
    });
    stdin.on('end', () => finish());
    stdin.on('error', () => finish('cannot read standard input.'));
  });
}

/** `--stdin-timeout`: whole seconds from 1 to 600, default {@link DEFAULT_STDIN_TIMEOUT_SECONDS}. */
export function stdinTimeoutSeconds(value: unknown): number {
  if (value === undefined) return DEFAULT_STDIN_TIMEOUT_SECONDS;
  const seconds = Number(value);
  if (typeof value !== 'string' || !/^\d{1,3}$/.test(value) || seconds < 1 || seconds > 600) {
    throw new UsageError('--stdin-timeout must be a whole number of seconds from 1 to 600.');
  }
  return seconds;
}
