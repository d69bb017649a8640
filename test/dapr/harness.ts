import type { IncomingMessage, ServerResponse } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { startDaprd, startPlacement, startScheduler, type Daprd, type DaprControlPlaneService, type DaprdOptions } from '../../scripts/dapr/daprd-process.mjs';
import { ensureDaprBinaries } from '../../scripts/dapr/install-daprd.mjs';

/**
 * What the daprd suites share: the binaries of one Dapr release, a fleet that starts and stops
 * daprd, placement and scheduler and shows their logs when a test fails, and a recorder of what
 * reached an app's HTTP server.
 */

/** daprd, placement and scheduler built from one github.com/dapr/dapr release (scripts/dapr/install-daprd.mjs). */
export const daprBinaries = ensureDaprBinaries({ log: () => undefined });

export { eventually } from '../support/eventually.js';

type DaprProcess = Pick<Daprd, 'logs' | 'stop'> & { label: string };

/** The Dapr processes one suite started: stopped together, their logs attached to a failing test. */
export class DaprFleet {
  private readonly running: DaprProcess[] = [];
  /** Every process ever started, stopped ones included (their logs stay readable). */
  private readonly started: DaprProcess[] = [];

  /** Starts still under way: stopAll() waits for them, so that none outlives the suite. */
  private readonly starting = new Set<Promise<unknown>>();

  private async whileStarting<T>(start: Promise<T>): Promise<T> {
    this.starting.add(start);
    try {
      return await start;
    } finally {
      this.starting.delete(start);
    }
  }

  private track(proc: DaprProcess): void {
    this.running.push(proc);
    this.started.push(proc);
  }

  async daprd(options: Omit<DaprdOptions, 'daprdPath'>): Promise<Daprd> {
    const started = await this.whileStarting(startDaprd({ daprdPath: daprBinaries.daprd, ...options }));
    this.track({ label: `daprd ${started.appId}`, logs: started.logs, stop: started.stop });
    return started;
  }

  /** placement and scheduler, for actors, reminders and jobs. */
  async controlPlane(): Promise<{ placementAddress: string; schedulerAddress: string; scheduler: DaprControlPlaneService }> {
    // allSettled: when one fails, the other is still tracked and stopped (a leaked placement kept Jest from exiting).
    const started = await this.whileStarting(
      Promise.allSettled([startPlacement({ placementPath: daprBinaries.placement }), startScheduler({ schedulerPath: daprBinaries.scheduler })]),
    );
    for (const result of started) if (result.status === 'fulfilled') this.track({ label: result.value.name, logs: result.value.logs, stop: result.value.stop });
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    const [placement, scheduler] = started.map((result) => (result as PromiseFulfilledResult<DaprControlPlaneService>).value);
    return { placementAddress: placement.address, schedulerAddress: scheduler.address, scheduler };
  }

  /** Everything every process started so far printed, one string each (for the leak check). */
  allLogs(): string[] {
    return this.started.map((proc) => proc.logs());
  }

  async stopAll(): Promise<void> {
    // A sibling of a start that failed may still be starting (Promise.all rejects at the first failure).
    await Promise.allSettled([...this.starting]);
    // daprd first: it is placement's and scheduler's client.
    const daprds = this.running.filter((proc) => proc.label.startsWith('daprd'));
    await Promise.all(daprds.map((proc) => proc.stop()));
    await Promise.all(this.running.splice(0).map((proc) => proc.stop()));
  }

  /** Runs `body`; when it fails, the error carries the tail of every running process's output. */
  withLogs(body: () => Promise<void>): () => Promise<void> {
    return async () => {
      try {
        await body();
      } catch (error) {
        const logs = this.running.map((proc) => `--- ${proc.label} (last 40 lines) ---\n${proc.logs().split('\n').slice(-40).join('\n')}`);
        if (error instanceof Error) error.message += `\n${logs.join('\n')}`;
        throw error;
      }
    };
  }
}

/** What reached an app's HTTP server: method, path, status, and whether `token` came with it. */
export interface SeenRequest {
  method: string;
  path: string;
  status: number;
  withToken: boolean;
}

/** Records every request the app's HTTP server answers, with whether it carried `token`. */
export function recordRequests(app: INestApplication, token: string): SeenRequest[] {
  const seen: SeenRequest[] = [];
  app.getHttpServer().on('request', (req: IncomingMessage, res: ServerResponse) => {
    res.on('finish', () =>
      seen.push({ method: req.method ?? '', path: req.url ?? '', status: res.statusCode, withToken: req.headers['dapr-api-token'] === token }),
    );
  });
  return seen;
}
