import type { Logger, LogLevel } from '@nestjs/common';
import type { DaprRejectionLogLimit } from '../options/dapr-auth.options.js';

/** How the summary line counts a malformed or a wrong token. */
const REFUSED_TOKEN = 'malformed-or-mismatch';

/** Rejections of one transport and reason counted in a window. */
interface Count {
  readonly transport: string;
  readonly reason: string;
  count: number;
}

/**
 * The rejection log's rate limit (`rejectionLogLimit`): the first `lines` rejections of each
 * window are logged one by one; the rest are only counted, by transport and reason, and one line
 * at the end of the window says how many there were. A flood of bad tokens then costs a counter
 * per request instead of a formatted log line (which cut a Fastify server's rejection throughput
 * by 40 %: bench/history.md), and the log still says that it happened and what it was.
 *
 * One per module, shared by every DaprAuthGuard instance. A window opens at the first rejection
 * and lasts `windowMs`; its timer (unref'd) is the only one, and runs only while a window is open.
 */
export class RejectionLog {
  private loggedInWindow = 0;
  private notLogged = 0;
  /** Rejections not logged one by one in this window, by transport, then reason. */
  private counts: Record<string, Record<string, Count>> = Object.create(null) as Record<string, Record<string, Count>>;
  /** The count the last rejection went to. */
  private lastCount: Count | undefined;
  /** Runs while a window is open: it ends the window (no clock read per rejection). */
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Pick<Logger, LogLevel>,
    private readonly level: LogLevel | false,
    private readonly limit: Readonly<Required<DaprRejectionLogLimit>> | undefined,
  ) {}

  /**
   * Whether this rejection is logged one by one (the caller then writes its line). Otherwise it is
   * counted under `transport` and reason (`malformed` and `mismatch` as one) for the window's
   * summary line.
   */
  admit(transport: string, rejection: string): boolean {
    if (this.level === false) return false;
    if (this.limit === undefined) return true;
    if (this.timer === undefined) {
      // The first rejection since the last window ended opens a new one.
      this.timer = setTimeout(() => this.endWindow(), this.limit.windowMs);
      this.timer.unref();
      this.loggedInWindow = 0;
    }
    if (this.loggedInWindow < this.limit.lines) {
      this.loggedInWindow++;
      return true;
    }
    this.notLogged++;
    // Refused tokens are counted together: which of them were malformed is not worked out for a
    // flood (the format check is most of such a rejection's cost); the lines logged one by one say.
    const reason = rejection === 'mismatch' || rejection === 'malformed' ? REFUSED_TOKEN : rejection;
    // A flood is mostly one kind: the same transport and reason as the last one counted, one
    // field increment (looking both up costs a rejection about 20 ns more).
    const last = this.lastCount;
    if (last !== undefined && last.transport === transport && last.reason === reason) {
      last.count++;
      return false;
    }
    const byReason = (this.counts[transport] ??= Object.create(null) as Record<string, Count>);
    const count = (byReason[reason] ??= { transport, reason, count: 0 });
    count.count++;
    this.lastCount = count;
    return false;
  }

  /** Ends the open window now, writing its summary if anything was counted. At shutdown. */
  flush(): void {
    clearTimeout(this.timer);
    this.endWindow();
  }

  private endWindow(): void {
    this.timer = undefined;
    if (this.notLogged === 0 || this.level === false || this.limit === undefined) return;
    const byKind = Object.entries(this.counts)
      .flatMap(([transport, byReason]) => Object.entries(byReason).map(([reason, { count }]) => `${transport} ${reason}: ${count}`))
      .join(', ');
    this.logger[this.level](
      `${this.notLogged} more rejection(s) not logged one by one in this window of ${this.limit.windowMs} ms ` +
        `(rejectionLogLimit: ${this.limit.lines} lines per window); by transport and reason: ${byKind}`,
    );
    this.notLogged = 0;
    this.counts = Object.create(null) as Record<string, Record<string, Count>>;
    this.lastCount = undefined;
  }
}
