import type { Logger } from '@nestjs/common';

/**
 * What the app found out about its daprd's own API (see {@link SidecarApiCheck}). Where the check
 * runs, caller rules (`@DaprCallers()`, option `callers`) refuse every call in every state but
 * `requires-token` (unless `allowForgeableCallers`):
 * - `not-checked`: `DAPR_HTTP_PORT` is not set (or `sidecarApiCheck: false`): the app does not know
 *   its daprd; caller rules rely on the start-up rule (`DAPR_API_TOKEN` set) alone;
 * - `checking`: no conclusive answer yet (daprd still starting): asked again, every few seconds;
 * - `requires-token`: proven: `GET /v1.0/metadata` got 401 without `dapr-api-token`, and 2xx with
 *   this app's own `DAPR_API_TOKEN`: daprd runs with that token (asked again every few minutes);
 * - `open`: it answered without a token: any client that reaches that API can invoke the app
 *   through it with the valid app token, and forge `dapr-caller-app-id` (docs/caller-identity.md);
 * - `token-refused`: 401 without a token and 401 with this app's `DAPR_API_TOKEN` too: not proven
 *   (the app's `DAPR_API_TOKEN` is not daprd's, or what answers is not daprd);
 * - `unproven`: 401 without a token, and the app has no (usable) `DAPR_API_TOKEN` to prove that
 *   this is its daprd requiring one;
 * - `unexpected`: another answer: a redirect (daprd never redirects: not daprd) or another status;
 * - `unreachable`: no conclusive answer within a minute (connection refused, timeouts, 5xx): still
 *   asked, every few seconds, in the background.
 */
export type SidecarApiState = 'not-checked' | 'checking' | 'requires-token' | 'open' | 'token-refused' | 'unproven' | 'unexpected' | 'unreachable';

/** {@link SidecarApiState}, with the address asked and the status code that settled it. */
export interface SidecarApiStatus {
  readonly state: SidecarApiState;
  /** `http://127.0.0.1:3500` (`DAPR_HOST`, default 127.0.0.1, and `DAPR_HTTP_PORT`), when `DAPR_HTTP_PORT` is set. */
  readonly address?: string;
  /** The HTTP status that settled it (for `unreachable`, the last 5xx, if that was the last answer). */
  readonly statusCode?: number;
}

/** Why a caller rule refused a call it would otherwise let through: the sidecar check has not proven daprd's API closed. Logged, never sent. */
export type SidecarApiRejection = 'sidecar-api-unverified';

/**
 * @internal How the check paces itself; a test shortens these (the values are read when a check is
 * built). Not part of the public API.
 */
export const SIDECAR_API_CHECK_TIMING = {
  /** First retry after a transient answer (5xx, connection refused, timeout); doubled each time... */
  firstRetryMs: 500,
  /** ...up to this. */
  maxRetryMs: 5_000,
  /** One request's limit. */
  requestTimeoutMs: 3_000,
  /** With no conclusive answer for this long, the state is `unreachable` (one log line); asking goes on. */
  unreachableAfterMs: 60_000,
  /** Once settled, asked again this often, so that an API that becomes open closes the caller rules. */
  recheckMs: 5 * 60_000,
};

type Timing = typeof SIDECAR_API_CHECK_TIMING;

/** The states a conclusive answer settles. */
type SettledState = Exclude<SidecarApiState, 'not-checked' | 'checking' | 'unreachable'>;

/** What one attempt found: a state, or a transient problem to retry. */
type Answer = { readonly state: SettledState; readonly statusCode?: number } | { readonly transient: string; readonly statusCode?: number };

/**
 * Checks, after start and in the background, that the app's own daprd refuses a client without
 * `DAPR_API_TOKEN` (what keeps other clients from invoking the app through it and forging a
 * caller id), and holds caller rules closed until it has proven so ({@link refusesCallers}).
 *
 * It asks `GET /v1.0/metadata` on `DAPR_HOST` (default 127.0.0.1) and `DAPR_HTTP_PORT`, following
 * no redirect: first with no token at all; after a 401, again with this app's own
 * `DAPR_API_TOKEN` (never `APP_API_TOKEN`), which tells a daprd that requires that token (2xx)
 * from anything else answering 401. Transient answers (5xx, connection refused, timeouts) are
 * retried; after {@link SIDECAR_API_CHECK_TIMING}`.unreachableAfterMs` without a conclusive one the
 * state is `unreachable`. Once settled, it asks again every few minutes. It never delays start-up;
 * every change of state is one log line (never a token).
 */
export class SidecarApiCheck {
  /**
   * Whether caller rules refuse every call right now: the check runs (`DAPR_HTTP_PORT` set,
   * `sidecarApiCheck` on), `allowForgeableCallers` is off, and daprd's API has not been proven to
   * require `DAPR_API_TOKEN` (yet, or any more). The guard reads it on calls to handlers with a
   * caller rule: a plain field, kept up to date here.
   */
  refusesCallers: boolean;
  /** Where the app has caller rules, for the log lines (set at start-up). */
  callerRuleSites: readonly string[] = [];
  private current: SidecarApiStatus;
  private readonly address: string | undefined;
  /** This app's own DAPR_API_TOKEN, when set and sendable as a header value; never logged. */
  private readonly daprApiToken: string | undefined;
  private readonly daprApiTokenUnusable: boolean;
  private readonly timing: Timing;
  private timer: NodeJS.Timeout | undefined;
  private boundTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private started = false;
  /** `DAPR_HTTP_PORT` is set to something that is not a port number (1-65535). */
  private readonly invalidPort: boolean;
  /** Told each time a round settles (the wiring check reads daprd's metadata then). */
  private readonly settledListeners: Array<(state: SidecarApiState) => void> = [];
  /** The last transient problem of the current round, for the `unreachable` line. */
  private lastProblem: string | undefined;
  private lastProblemStatus: number | undefined;

  /** @internal The module builds it. */
  constructor(
    env: NodeJS.ProcessEnv,
    enabled: boolean,
    private readonly logger: Pick<Logger, 'log' | 'warn' | 'error'>,
    private readonly allowForgeableCallers = false,
  ) {
    this.timing = { ...SIDECAR_API_CHECK_TIMING };
    const port = Number(env.DAPR_HTTP_PORT);
    const host = env.DAPR_HOST || '127.0.0.1';
    this.address = enabled && Number.isInteger(port) && port > 0 && port < 65536 ? `http://${host.includes(':') ? `[${host}]` : host}:${port}` : undefined;
    // Set but not a port: the app was told where its daprd is and cannot ask it. Not "unset": caller rules stay shut.
    this.invalidPort = enabled && this.address === undefined && (env.DAPR_HTTP_PORT ?? '') !== '';
    this.current = { state: this.address === undefined ? (this.invalidPort ? 'unexpected' : 'not-checked') : 'checking', address: this.address };
    this.refusesCallers = (this.address !== undefined || this.invalidPort) && !allowForgeableCallers;
    const token = env.DAPR_API_TOKEN || undefined;
    this.daprApiToken = token !== undefined && isHeaderValue(token) ? token : undefined;
    this.daprApiTokenUnusable = token !== undefined && this.daprApiToken === undefined;
  }

  status(): SidecarApiStatus {
    return this.current;
  }

  /** For the status and health indicator: whether the app has caller rules and they refuse every call right now. */
  get refusingCallerRules(): boolean {
    return this.refusesCallers && this.callerRuleSites.length > 0;
  }

  /** Starts asking (in the background); resolves nothing, waits for nothing. */
  start(): void {
    if (this.invalidPort && !this.started) {
      this.started = true;
      this.logger.error(
        'DAPR_HTTP_PORT is set, but not to a port number (1-65535; the value is not shown): the app cannot ask its daprd whether its API ' +
          "requires DAPR_API_TOKEN, so caller rules refuse every call (403 / 7). Fix: set DAPR_HTTP_PORT to daprd's HTTP port, or unset it.",
      );
    }
    if (this.address === undefined || this.stopped || this.started) return;
    this.started = true;
    this.beginRound();
  }

  /**
   * Stops asking (application shutdown) and shuts caller rules: what was proven may no longer hold
   * when the app serves again (a microservice can `listen()` after `close()`, with no hook).
   */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.boundTimer);
    if (this.address !== undefined) {
      this.refusesCallers = !this.allowForgeableCallers;
      this.current = { state: 'checking', address: this.address };
    }
  }

  /**
   * The guard calls this when it refuses a call for this check's sake: after a stop, the app serves
   * again (a restart Nest runs no hook for), so asking starts again. Nothing on the accepted path.
   */
  resumeIfStopped(): void {
    if (!this.stopped || this.address === undefined) return;
    this.stopped = false;
    this.started = false;
    this.start();
  }

  /** One round: ask until a conclusive answer, and say `unreachable` if none comes within the bound. */
  private beginRound(): void {
    if (this.stopped) return;
    this.lastProblem = this.lastProblemStatus = undefined;
    this.boundTimer = setTimeout(() => this.reportUnreachable(), this.timing.unreachableAfterMs);
    this.boundTimer.unref();
    void this.attempt(this.timing.firstRetryMs);
  }

  private async attempt(retryMs: number): Promise<void> {
    const answer = await this.ask();
    if (this.stopped) return;
    if ('transient' in answer) {
      this.lastProblem = answer.transient;
      this.lastProblemStatus = answer.statusCode;
      this.schedule(() => void this.attempt(Math.min(retryMs * 2, this.timing.maxRetryMs)), retryMs);
      return;
    }
    clearTimeout(this.boundTimer);
    this.settle(answer.state, answer.statusCode);
    this.schedule(() => this.beginRound(), this.timing.recheckMs);
    for (const listener of this.settledListeners) listener(answer.state);
  }

  /** @internal Calls `listener` each time a round settles (after start-up, and at every re-check). */
  onSettled(listener: (state: SidecarApiState) => void): void {
    this.settledListeners.push(listener);
  }

  /**
   * @internal daprd's `GET /v1.0/metadata`, parsed; or why not (a status, a failure's code: never a
   * header value). No redirect is followed. This app's `DAPR_API_TOKEN` is sent only while the
   * check has proven that a daprd requiring it answers there (`requires-token`): an API found open
   * answered without it, and may not be daprd at all.
   */
  async readMetadata(): Promise<{ body: unknown } | { failure: string }> {
    if (this.address === undefined) return { failure: 'DAPR_HTTP_PORT not set' };
    const token = this.current.state === 'requires-token' ? this.daprApiToken : undefined;
    try {
      const response = await fetch(`${this.address}/v1.0/metadata`, {
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timing.requestTimeoutMs),
        headers: token === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'dapr-api-token': token },
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        return { failure: `HTTP ${response.status}` };
      }
      const text = await readBounded(response, MAX_METADATA_BYTES);
      if (text === undefined) return { failure: `larger than ${MAX_METADATA_BYTES / 1024 / 1024} MiB` };
      return { body: JSON.parse(text) as unknown };
    } catch (error) {
      return { failure: error instanceof SyntaxError ? 'not JSON' : describeFailure(error, this.timing.requestTimeoutMs) };
    }
  }

  private schedule(next: () => void, ms: number): void {
    this.timer = setTimeout(next, ms);
    this.timer.unref();
  }

  /**
   * A name from daprd's answer, or `[redacted]` where it carries a piece of this app's
   * `DAPR_API_TOKEN` (any 8 characters of it in a row, in any letter case, percent-escaped or not):
   * such names reach log lines, and whatever answered may have been sent that token (it proved it
   * requires it) and echo it back, whole, cut or split over several names.
   */
  redactSecret(name: string): string {
    const pieces = this.tokenPieces();
    if (pieces.length === 0) return name;
    const forms = [name.toLowerCase()];
    // Each escape on its own (a name cut in the middle of one still decodes the rest).
    if (name.includes('%')) forms.push(name.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))).toLowerCase());
    return forms.some((form) => pieces.some((piece) => form.includes(piece))) ? '[redacted]' : name;
  }

  private pieces: string[] | undefined;
  /** Every 8 characters in a row of DAPR_API_TOKEN (lower case); the whole token when shorter. */
  private tokenPieces(): string[] {
    if (this.pieces !== undefined) return this.pieces;
    const token = this.daprApiToken?.toLowerCase() ?? '';
    const size = Math.min(8, token.length);
    this.pieces = [];
    for (let start = 0; size > 0 && start + size <= token.length; start++) this.pieces.push(token.slice(start, start + size));
    return this.pieces;
  }

  /** The questions of one attempt: without a token, then (after a 401) with this app's DAPR_API_TOKEN. */
  private async ask(): Promise<Answer> {
    const bare = await this.get(undefined);
    if (typeof bare === 'string') return { transient: bare };
    if (bare >= 500) return { transient: `HTTP ${bare}`, statusCode: bare };
    if (bare >= 200 && bare < 300) return { state: 'open', statusCode: bare };
    if (bare !== 401) return { state: 'unexpected', statusCode: bare };
    if (this.daprApiToken === undefined) return { state: 'unproven', statusCode: bare };
    const withToken = await this.get(this.daprApiToken);
    if (typeof withToken === 'string') return { transient: withToken };
    if (withToken >= 500) return { transient: `HTTP ${withToken}`, statusCode: withToken };
    if (withToken >= 200 && withToken < 300) return { state: 'requires-token', statusCode: bare };
    if (withToken === 401) return { state: 'token-refused', statusCode: withToken };
    return { state: 'unexpected', statusCode: withToken };
  }

  /** The status of one `GET /v1.0/metadata`, or what kept it from answering (never a header value). */
  private async get(token: string | undefined): Promise<number | string> {
    try {
      const response = await fetch(`${this.address}/v1.0/metadata`, {
        // daprd never redirects: a 3xx is something else, and following it would ask anything it points to.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timing.requestTimeoutMs),
        headers: token === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'dapr-api-token': token },
      });
      await response.body?.cancel();
      return response.status;
    } catch (error) {
      return describeFailure(error, this.timing.requestTimeoutMs);
    }
  }

  private reportUnreachable(): void {
    if (this.stopped) return;
    const problem = this.lastProblem ?? 'no answer';
    this.change(
      { state: 'unreachable', address: this.address, ...(this.lastProblemStatus === undefined ? {} : { statusCode: this.lastProblemStatus }) },
      `did not answer GET /v1.0/metadata conclusively within ${seconds(this.timing.unreachableAfterMs)} (last: ${problem}): not known whether it ` +
        `requires DAPR_API_TOKEN. Still asking, every ${seconds(this.timing.maxRetryMs)}. Is daprd running at DAPR_HOST:DAPR_HTTP_PORT ` +
        '(DAPR_HOST defaults to 127.0.0.1)?',
    );
  }

  private settle(state: SettledState, statusCode: number | undefined): void {
    const status: SidecarApiStatus = { state, address: this.address, ...(statusCode === undefined ? {} : { statusCode }) };
    switch (state) {
      case 'requires-token':
        return this.change(
          status,
          `requires DAPR_API_TOKEN (GET /v1.0/metadata: 401 without it, answered with this app's DAPR_API_TOKEN): only clients holding it can invoke ` +
            `this app through it.${this.callerRuleSites.length > 0 ? ' Caller rules are enforced.' : ''}`,
        );
      case 'open': {
        const callers =
          this.callerRuleSites.length > 0
            ? ` and pass any caller rule by sending its own dapr-caller-app-id (rules: ${this.sites()})`
            : ' (and forge dapr-caller-app-id)';
        return this.change(
          status,
          `answers without DAPR_API_TOKEN (GET /v1.0/metadata: ${statusCode}): any client that reaches it can invoke this app through it, ` +
            `with the valid app token${callers}. Fix: ${FIX}`,
          'error',
        );
      }
      case 'token-refused':
        return this.change(
          status,
          "answered GET /v1.0/metadata with 401 without a token AND with this app's own DAPR_API_TOKEN: not proven to be a daprd that " +
            "requires it. Is DAPR_API_TOKEN here the same value as daprd's (Kubernetes: the Secret named by dapr.io/api-token-secret, key " +
            '`token`), and is daprd on DAPR_HTTP_PORT?',
        );
      case 'unproven':
        return this.change(
          status,
          `answered GET /v1.0/metadata with 401 without a token, but this app ${this.daprApiTokenUnusable ? 'has a DAPR_API_TOKEN that cannot be sent as a header value (it checks nothing with it)' : 'has no DAPR_API_TOKEN'} ` +
            "to prove that this is its daprd requiring one. Fix: give the app DAPR_API_TOKEN, the same value as daprd's.",
        );
      case 'unexpected':
        return this.change(
          status,
          statusCode !== undefined && statusCode >= 300 && statusCode < 400
            ? `answered GET /v1.0/metadata with a redirect (${statusCode}), not followed: daprd never redirects, so this is not daprd's API. Is daprd on DAPR_HTTP_PORT?`
            : `answered GET /v1.0/metadata with ${statusCode}, neither 401 nor 2xx: is daprd on DAPR_HTTP_PORT? Not known whether its API requires DAPR_API_TOKEN.`,
        );
    }
  }

  /** Takes a new status; logs one line when the state changed (never a token). */
  private change(status: SidecarApiStatus, finding: string, level?: 'log' | 'warn' | 'error'): void {
    const changed = status.state !== this.current.state;
    this.current = status;
    this.refusesCallers = !this.allowForgeableCallers && status.state !== 'requires-token';
    if (!changed) return;
    const gated = this.callerRuleSites.length > 0 && status.state !== 'requires-token';
    const line = `daprd's API at ${this.address} ${finding}${gated ? this.gateNote() : ''}`;
    this.logger[level ?? (status.state === 'requires-token' ? 'log' : gated && !this.allowForgeableCallers ? 'error' : 'warn')](line);
  }

  private gateNote(): string {
    return this.allowForgeableCallers
      ? ` allowForgeableCallers is on: the caller rules (${this.sites()}) still let calls through.`
      : ` Until daprd's API is proven to require DAPR_API_TOKEN, the caller rules (${this.sites()}) refuse every call (HTTP 403 / gRPC 7, reason sidecar-api-unverified).`;
  }

  private sites(): string {
    const sites = this.callerRuleSites;
    return `${sites.slice(0, 5).join(', ')}${sites.length > 5 ? ` and ${sites.length - 5} more` : ''}`;
  }
}

const FIX =
  "run daprd with DAPR_API_TOKEN and give this app the same value (Kubernetes: the pod annotation dapr.io/api-token-secret, and the app container's " +
  "DAPR_API_TOKEN from that Secret's key `token`; self-hosted: DAPR_API_TOKEN=<token> dapr run ...).";

/** daprd's metadata is a few kB (tens with many components); whatever answers is read no further than this. */
const MAX_METADATA_BYTES = 1024 * 1024;

/** The body as text, or `undefined` once it passes `limit` bytes (the rest is not read). */
async function readBounded(response: Response, limit: number): Promise<string | undefined> {
  if (response.body === null) return '';
  const reader = response.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const read = await reader.read();
    if (read.done) break;
    const value: Uint8Array = read.value;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Whether fetch can send `value` as a header value (no control characters, no surrounding whitespace). */
function isHeaderValue(value: string): boolean {
  return /^[\x21-\x7e\x80-\xff]([\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?$/.test(value);
}

/** What kept a request from answering, by code or name only: an error's message could quote a header value. */
function describeFailure(error: unknown, timeoutMs: number): string {
  // Duck-typed: a timeout is a DOMException, not always an Error of this realm.
  const name = typeof (error as { name?: unknown } | undefined)?.name === 'string' ? (error as { name: string }).name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${seconds(timeoutMs)}`;
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (typeof code === 'string') return code;
  return name ?? 'request failed';
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
