import type { Logger } from '@nestjs/common';

/** How often report-only mode reminds the operator that nothing is refused, with the count since the last reminder. */
export const REPORT_ONLY_REMINDER_INTERVAL = 5 * 60_000;

/**
 * Report-only mode (`mode: 'report'`): the guard decides as usual and logs what it would have
 * rejected, but lets the request through. This counts those requests and says so loudly: once at
 * start-up, then every REPORT_ONLY_REMINDER_INTERVAL, so that a rollout never stays in this mode
 * by accident.
 */
export class ReportOnlyMonitor {
  private wouldReject = 0;
  private total = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly interval = REPORT_ONLY_REMINDER_INTERVAL,
  ) {}

  /** A request the guard would have rejected and let through. */
  count(): void {
    this.wouldReject++;
    this.total++;
  }

  /** Requests let through that enforcing would have rejected, since start-up. */
  get wouldHaveRejected(): number {
    return this.total;
  }

  start(): void {
    this.logger.warn(
      "REPORT-ONLY MODE (mode: 'report'): DaprAuthGuard REFUSES NOTHING. It logs what it would reject (rejectionLogLimit applies) and lets it through. " +
        "Use it to roll the guard out, then remove `mode: 'report'` to enforce.",
    );
    this.timer = setInterval(() => {
      this.logger.warn(
        `REPORT-ONLY MODE: DaprAuthGuard refuses nothing; ${this.wouldReject} request(s) in the last ${Math.round(this.interval / 1000)} s ` +
          `would have been rejected (${this.total} since start-up). Remove \`mode: 'report'\` to enforce.`,
      );
      this.wouldReject = 0;
    }, this.interval);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
