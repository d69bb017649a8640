import type { Logger, LogLevel } from '@nestjs/common';
import type { DaprRejectionLogLimit } from './dapr-auth.options.js';

/**
 * The rejection log's rate limit (`rejectionLogLimit`): the first `lines` rejections of each
 * window are logged one by one; the rest are only counted, by transport and reason, and one line
 * at the end of the window says how many there were. A flood of bad tokens then costs a counter
 * per request instead of a formatted log line (which cut a Fastify server's rejection throughput
 * by 40 %: bench/history.md), and the log still says that it happened and what it was.
 *
 * One per module, shared by every DaprAuthGuard instance. The window starts at the first
 * rejection; no timer runs while nothing is rejected.
 */
export class RejectionLog {
  private windowEnds = 0;
  private loggedInWindow = 0;
  private notLogged = 0;
  private readonly counts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Pick<Logger, LogLevel>,
    private readonly level: LogLevel | false,
    private readonly limit: Readonly<Required<DaprRejectionLogLimit>> | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Whether this rejection is logged one by one (the caller then writes its line). Otherwise it is
   * counted under `transport` and `reason` for the window's summary line.
   */
  admit(transport: string, reason: string): boolean {
    if (this.level === false) return false;
    if (this.limit === undefined) return true;
    const now = this.now();
    if (now >= this.windowEnds) {
      this.flush();
      this.windowEnds = now + this.limit.windowMs;
      this.loggedInWindow = 0;
    }
    if (this.loggedInWindow < this.limit.lines) {
      this.loggedInWindow++;
      return true;
    }
    const key = `${transport} ${reason}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (this.notLogged++ === 0) {
      // The summary is written when the window ends, even if no rejection comes after it.
      this.timer = setTimeout(() => this.flush(), this.windowEnds - now);
      this.timer.unref();
    }
    return false;
  }

  /** Writes the summary of what was counted and not logged one by one, if anything. At shutdown too. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.notLogged === 0 || this.level === false || this.limit === undefined) return;
    const byKind = [...this.counts].map(([key, count]) => `${key}: ${count}`).join(', ');
    this.logger[this.level](
      `${this.notLogged} more rejection(s) not logged one by one in this window of ${this.limit.windowMs} ms ` +
        `(rejectionLogLimit: ${this.limit.lines} lines per window); by transport and reason: ${byKind}`,
    );
    this.notLogged = 0;
    this.counts.clear();
  }
}
