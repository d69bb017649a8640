import type { Logger } from '@nestjs/common';

/**
 * What the app found out about its daprd's own API (see {@link SidecarApiCheck}):
 * - `not-checked`: `DAPR_HTTP_PORT` is not set (or the check is off): the app does not know its daprd;
 * - `checking`: asked, no answer yet (daprd still starting): asked again, less and less often;
 * - `requires-token`: `GET /v1.0/metadata` without `dapr-api-token` got 401: daprd runs with `DAPR_API_TOKEN`;
 * - `open`: it answered without a token: any client that reaches that API can invoke the app through
 *   it with the valid app token, and forge `dapr-caller-app-id` (docs/caller-identity.md);
 * - `unexpected`: another answer (not daprd on that port?).
 */
export type SidecarApiState = 'not-checked' | 'checking' | 'requires-token' | 'open' | 'unexpected';

/** {@link SidecarApiState}, with the address asked and the status code that settled it. */
export interface SidecarApiStatus {
  readonly state: SidecarApiState;
  /** `http://127.0.0.1:3500`, when `DAPR_HTTP_PORT` is set. */
  readonly address?: string;
  /** The HTTP status that settled it. */
  readonly statusCode?: number;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
const REQUEST_TIMEOUT_MS = 3_000;

/**
 * Checks, after start and in the background, that the app's own daprd refuses a client without
 * `DAPR_API_TOKEN` (what keeps other clients from invoking the app through it and forging a
 * caller id). It asks `GET /v1.0/metadata` on `DAPR_HOST` (default 127.0.0.1) and `DAPR_HTTP_PORT`
 * with no token at all (never `APP_API_TOKEN`, never `DAPR_API_TOKEN`), retrying while daprd comes
 * up. It never delays start-up; an open API is an error line and shows in `DaprAuthStatus` and
 * the health indicator.
 */
export class SidecarApiCheck {
  private current: SidecarApiStatus;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly address: string | undefined;
  /** Where the app has caller rules, for the error line (set at start-up). */
  callerRuleSites: readonly string[] = [];

  /** @internal The module builds it. */
  constructor(
    env: NodeJS.ProcessEnv,
    enabled: boolean,
    private readonly logger: Pick<Logger, 'log' | 'warn' | 'error'>,
  ) {
    const port = Number(env.DAPR_HTTP_PORT);
    const host = env.DAPR_HOST || '127.0.0.1';
    this.address = enabled && Number.isInteger(port) && port > 0 && port < 65536 ? `http://${host.includes(':') ? `[${host}]` : host}:${port}` : undefined;
    this.current = { state: this.address === undefined ? 'not-checked' : 'checking', address: this.address };
  }

  status(): SidecarApiStatus {
    return this.current;
  }

  /** Starts asking (in the background); resolves nothing, waits for nothing. */
  start(): void {
    if (this.address !== undefined && !this.stopped) void this.ask(FIRST_RETRY_MS);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async ask(nextRetryMs: number): Promise<void> {
    let statusCode: number;
    try {
      // No dapr-api-token header of any kind: the question is whether daprd answers without one.
      const response = await fetch(`${this.address}/v1.0/metadata`, {
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        headers: { accept: 'application/json' },
      });
      statusCode = response.status;
      await response.body?.cancel();
    } catch {
      // Not up yet (or not reachable): ask again, less and less often, until shutdown.
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.ask(Math.min(nextRetryMs * 2, MAX_RETRY_MS)), nextRetryMs);
      this.timer.unref();
      return;
    }
    if (this.stopped) return;
    this.settle(statusCode);
  }

  private settle(statusCode: number): void {
    const where = `daprd's API at ${this.address}`;
    if (statusCode === 401) {
      this.current = { state: 'requires-token', address: this.address, statusCode };
      this.logger.log(`${where} requires DAPR_API_TOKEN (GET /v1.0/metadata without it: 401): only clients holding it can invoke this app through it.`);
      return;
    }
    if (statusCode >= 200 && statusCode < 300) {
      this.current = { state: 'open', address: this.address, statusCode };
      const callers =
        this.callerRuleSites.length > 0
          ? ` and pass any caller rule by sending its own dapr-caller-app-id (rules: ${this.callerRuleSites.slice(0, 5).join(', ')})`
          : ' (and forge dapr-caller-app-id)';
      this.logger.error(
        `${where} answers without DAPR_API_TOKEN (GET /v1.0/metadata: ${statusCode}): any client that reaches it can invoke this app ` +
          `through it, with the valid app token${callers}. Fix: run daprd with DAPR_API_TOKEN (Kubernetes: the dapr.io/api-token-secret ` +
          'annotation; self-hosted: DAPR_API_TOKEN=<token> dapr run ...).',
      );
      return;
    }
    this.current = { state: 'unexpected', address: this.address, statusCode };
    this.logger.warn(
      `${where} answered GET /v1.0/metadata with ${statusCode}, neither 401 nor 200: is daprd on DAPR_HTTP_PORT? Not known whether its API requires DAPR_API_TOKEN.`,
    );
  }
}
