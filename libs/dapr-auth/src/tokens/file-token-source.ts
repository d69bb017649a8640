import { type FSWatcher, watch } from 'node:fs';
import { dirname } from 'node:path';
import {
  DEFAULT_MAX_TOKEN_LENGTH,
  DEFAULT_TOKEN_FILE_GRACE_PERIOD,
  DEFAULT_TOKEN_FILE_POLL_INTERVAL,
  TOKEN_FILE_WHITESPACE_ALLOWANCE,
} from '../dapr-auth.constants.js';
import { OptionChecks, shownPath } from '../option-checks.js';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import { type LineLogger, nestLoggerOnFirstLine } from '../optional-import.js';
import type { DaprTokenSource } from './dapr-token-source.js';
import { readSmallRegularFile, type SmallFileFailure } from './read-small-regular-file.js';
import { isWellFormedToken } from './token-format.js';

/** Options of {@link FileTokenSource}. */
export interface FileTokenSourceOptions {
  /**
   * The file whose content (trimmed) is the token, e.g. a Kubernetes Secret volume's `token`: a
   * regular file (symbolic links followed) of at most `maxTokenLength` + 1024 bytes; a FIFO, a
   * device or a directory counts as unreadable, and is never waited on.
   */
  path: string;
  /** How often to re-read the file whatever the watcher says, in ms. Default 5000. */
  pollInterval?: number;
  /** How long the previous token stays accepted after the file changes, in ms. Default 15 minutes. */
  gracePeriod?: number;
  /** Longest token accepted, in characters. Default 4096. */
  maxTokenLength?: number;
  /**
   * Where changes and failures are logged (never a token). Default: Nest's `Logger` with context
   * `DaprAuthModule`, loaded at the first line (so that the source itself loads without Nest).
   */
  logger?: LineLogger;
}

/** Why the file could not give a token. */
type ReadFailure = SmallFileFailure | 'empty' | 'invalid';

const FAILURE_TEXT: Record<ReadFailure, string> = {
  missing: 'does not exist',
  unreadable: 'cannot be read',
  'not-a-file': 'cannot be read: it is not a regular file (a directory, a FIFO or a device)',
  'too-large': `does not hold a valid token: it is larger than maxTokenLength plus ${TOKEN_FILE_WHITESPACE_ALLOWANCE} bytes`,
  empty: 'is empty',
  invalid: 'does not hold a valid token (1 to maxTokenLength visible ASCII characters, no spaces inside)',
};

/**
 * Accepts the token held in a file, and follows the file as it changes: what the `tokenFile`
 * option builds.
 *
 * Made for Kubernetes Secret volumes. The kubelet updates one by writing a new timestamped
 * directory and renaming the `..data` symlink over the old one, so the file's path stays the same
 * while its inode changes; a watch on the file itself misses the second swap. So the source watches
 * the file's DIRECTORY, re-reads on any event, also re-reads every `pollInterval` (watch events
 * are not guaranteed everywhere), and compares contents, not timestamps.
 *
 * When the content changes, the new token is accepted at once and the previous one for
 * `gracePeriod` more (the sidecar keeps sending it until it restarts). A file that goes missing,
 * unreadable, empty or invalid keeps the last good tokens, with one error log per failure, until
 * it is good again. {@link FileTokenSource.getTokens} always returns a whole snapshot.
 */
export class FileTokenSource implements DaprTokenSource {
  readonly path: string;
  /** The path as messages show it: only when written as a path (a token put in its place is never echoed). */
  private readonly shown: string;
  private readonly pollInterval: number;
  private readonly gracePeriod: number;
  private readonly maxTokenLength: number;
  private readonly logger: LineLogger;

  private current: string;
  /** Earlier tokens still accepted, each until its own expiry. */
  private previous: Array<{ token: string; expiresAt: number }> = [];
  private snapshot: readonly string[];
  private lastFailure: ReadFailure | undefined;
  private lastGoodReadAt = Date.now();
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /**
   * Reads the file once and starts following it.
   *
   * @throws DaprAuthConfigError when the file is missing, unreadable, empty or invalid now.
   */
  constructor(options: FileTokenSourceOptions) {
    this.path = options.path;
    this.shown = shownPath(options.path);
    const check = new OptionChecks('FileTokenSource.');
    if (typeof options.path !== 'string' || options.path === '') check.fail('path', options.path, 'the path of the file holding the token');
    this.pollInterval = check.milliseconds('pollInterval', options.pollInterval, DEFAULT_TOKEN_FILE_POLL_INTERVAL, 100);
    this.gracePeriod = check.milliseconds('gracePeriod', options.gracePeriod, DEFAULT_TOKEN_FILE_GRACE_PERIOD, 0);
    this.maxTokenLength = check.integer('maxTokenLength', options.maxTokenLength, DEFAULT_MAX_TOKEN_LENGTH, 1, 65_536);
    this.logger = options.logger ?? nestLoggerOnFirstLine('DaprAuthModule');

    const initial = this.read();
    if ('failure' in initial) {
      throw new DaprAuthConfigError(
        `token file ${this.shown} ${FAILURE_TEXT[initial.failure]}. Point \`tokenFile\` at the file holding the same value as the ` +
          `Dapr sidecar's APP_API_TOKEN (on Kubernetes, the key \`token\` of the Secret named by dapr.io/app-token-secret, ` +
          `mounted as a volume without subPath).`,
      );
    }
    this.current = initial.token;
    this.snapshot = Object.freeze([initial.token]);
    this.startWatching();
    this.startPolling();
  }

  /** The current token, plus earlier ones still inside their grace period. */
  getTokens(): readonly string[] {
    // Closed at shutdown, and used again: the app serves after a restart Nest runs no hook for.
    if (this.closed) this.reopen();
    return this.snapshot;
  }

  /** For metrics and health checks: when the file was last read well, whether it is failing now, and the grace period left. */
  status(now = Date.now()): { lastGoodReadAt: number; failing: boolean; graceRemainingMs: number } {
    const graceEnds = this.previous.length === 0 ? now : Math.max(...this.previous.map((entry) => entry.expiresAt));
    return { lastGoodReadAt: this.lastGoodReadAt, failing: this.lastFailure !== undefined, graceRemainingMs: Math.max(0, graceEnds - now) };
  }

  /** Re-reads the file now. The watcher and the poll call this; tests and users may too. */
  reload(): void {
    if (this.closed) return;
    const result = this.read();
    if ('failure' in result) {
      if (this.lastFailure !== result.failure) {
        this.lastFailure = result.failure;
        this.logger.error(`Token file ${this.shown} ${FAILURE_TEXT[result.failure]}; still accepting the last good token(s) until it is fixed.`);
      }
      return;
    }
    const { token } = result;
    this.lastGoodReadAt = Date.now();
    if (this.lastFailure !== undefined) {
      this.lastFailure = undefined;
      this.logger.log(`Token file ${this.shown} is readable again.`);
    }
    if (token === this.current) return;

    const now = Date.now();
    this.previous = [
      ...this.previous.filter((entry) => entry.token !== token && entry.token !== this.current),
      { token: this.current, expiresAt: now + this.gracePeriod },
    ];
    this.current = token;
    this.publish(now);
    this.logger.log(`Token file ${this.shown} changed: the new token is accepted now, the previous one for ${Math.round(this.gracePeriod / 1000)} s more.`);
  }

  /** Stops the watcher and the timers (the module calls it on application shutdown). */
  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    for (const timer of [this.pollTimer, this.expiryTimer, this.debounceTimer]) clearTimeout(timer);
  }

  /** Follows the file again after close(): reads it now (a grace period that ended meanwhile is over), then watches and polls. */
  private reopen(): void {
    this.closed = false;
    this.reload();
    this.publish(Date.now());
    this.startWatching();
    this.startPolling();
  }

  private startPolling(): void {
    this.pollTimer = setInterval(() => {
      if (this.watcher === undefined) this.startWatching(); // e.g. the directory was recreated
      this.reload();
    }, this.pollInterval);
    this.pollTimer.unref();
  }

  private read(): { token: string } | { failure: ReadFailure } {
    // Bounded: only a regular file, of at most a token and some whitespace (never waits on a FIFO).
    const read = readSmallRegularFile(this.path, this.maxTokenLength + TOKEN_FILE_WHITESPACE_ALLOWANCE);
    if ('failure' in read) return read;
    const token = read.content.trim();
    if (token === '') return { failure: 'empty' };
    return isWellFormedToken(token, this.maxTokenLength) ? { token } : { failure: 'invalid' };
  }

  /** Publishes a new snapshot without expired tokens, and schedules the next expiry. */
  private publish(now: number): void {
    this.previous = this.previous.filter((entry) => entry.expiresAt > now);
    this.snapshot = Object.freeze([this.current, ...this.previous.map((entry) => entry.token)]);
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.previous.length > 0) {
      const next = Math.min(...this.previous.map((entry) => entry.expiresAt));
      this.expiryTimer = setTimeout(() => this.publish(Date.now()), Math.max(0, next - now) + 1);
      this.expiryTimer.unref();
    }
  }

  private startWatching(): void {
    try {
      // Any event in the directory may be the kubelet's `..data` swap: re-read (coalesced).
      this.watcher = watch(dirname(this.path), { persistent: false }, () => {
        clearTimeout(this.debounceTimer);
        this.debounceTimer = setTimeout(() => this.reload(), 20);
        this.debounceTimer.unref();
      });
      this.watcher.on('error', () => {
        // The directory went away or cannot be watched: polling still covers it.
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined; // polling only
    }
  }
}
