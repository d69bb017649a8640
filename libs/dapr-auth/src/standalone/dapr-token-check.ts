import { REJECTION_HTTP_BODY } from '../dapr-auth.constants.js';
import type { ResolvedDaprAuthOptions } from '../options/dapr-auth.options.js';
import { type DecisionRecorder, NO_RECORDER } from '../observe/metrics/decision-recorder.js';
import { RejectionLog } from '../observe/rejection-log.js';
import type { PresentedToken, TokenRejection } from '../pipeline.types.js';
import type { DaprTokenSource } from '../tokens/dapr-token-source.js';
import { malformedTokenDetail } from '../tokens/token-format.js';
import { TokenVerifier } from '../tokens/token-verifier.js';
import { isDaprHealthProbe } from './health-probe.js';
import { asCheckError, resolveTokenCheckOptions } from './resolve-token-check-options.js';

/** Where {@link createDaprTokenCheck} logs (never a token); default: the console. Nest's `Logger` fits. */
export interface DaprTokenCheckLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
  verbose?(message: string): void;
  fatal?(message: string): void;
}

/**
 * Options of {@link createDaprTokenCheck}: those of `DaprAuthModule` about the token (same names,
 * defaults and start-up checks: the token from `APP_API_TOKEN` by default), and a `logger`.
 */
export interface DaprTokenCheckOptions {
  token?: string | readonly string[];
  tokenEnvVar?: string | readonly string[];
  tokenFile?: string;
  tokenFilePollInterval?: number;
  tokenFileGracePeriod?: number;
  tokenSource?: DaprTokenSource;
  allowUnconfigured?: boolean;
  /** A `GET` / `HEAD` to exactly this path (query ignored) passes without a token. Default `/healthz`. */
  healthCheckPath?: string;
  /** `false`: the health probe needs the token too. */
  exemptTokenlessDaprCalls?: boolean;
  tokenHeader?: string;
  maxTokenLength?: number;
  logRejections?: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal' | false;
  rejectionLogLimit?: { lines?: number; windowMs?: number } | false;
  /** Needs `@opentelemetry/api`; counted once {@link DaprTokenCheck.ready} settles. */
  metrics?: boolean | { meterProvider?: { getMeter(name: string, version?: string, options?: object): unknown } };
  logger?: DaprTokenCheckLogger;
}

/** Headers as Node gives them (Express, Fastify, `node:http`), or a fetch API `Headers`. */
export type DaprRequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>> | { get(name: string): string | null };

/** What {@link DaprTokenCheck.verifyRequest} reads of a `node:http`, Express or Fastify request. */
export interface DaprRequestLike {
  readonly method?: string;
  readonly url?: string;
  /** Express: the URL as received (`url` is relative to a mount path). */
  readonly originalUrl?: string;
  readonly headers: DaprRequestHeaders;
  /** Fastify: the route pattern, for the log. */
  readonly routeOptions?: { readonly url?: string };
}

/** Let the request through, or answer `status` with `body`. */
export type DaprTokenVerdict =
  { readonly ok: true } | { readonly ok: false; readonly status: 401; readonly body: string; readonly contentType: 'application/json; charset=utf-8' };

/** The Dapr app-token check without Nest. */
export interface DaprTokenCheck {
  /** daprd's health probe passes; any other request needs exactly one accepted token. */
  verifyRequest(request: DaprRequestLike): DaprTokenVerdict;
  /** The token alone, no exemption. */
  verify(headers: DaprRequestHeaders): DaprTokenVerdict;
  /** With `metrics`: settles once they are counted (await it before serving); rejects without `@opentelemetry/api`. */
  readonly ready: Promise<void>;
  /** Stops a token file's watcher (closes a `tokenSource`); logs the rejection log's pending summary. */
  close(): Promise<void>;
}

const ACCEPTED: DaprTokenVerdict = Object.freeze({ ok: true });
const REJECTED: DaprTokenVerdict = Object.freeze({ ok: false, status: 401, body: REJECTION_HTTP_BODY, contentType: 'application/json; charset=utf-8' });
const HTTP = 'HTTP';
const CONSOLE: DaprTokenCheckLogger = {
  log: (line) => console.log(`[nestjs-dapr-auth] ${line}`),
  warn: (line) => console.warn(`[nestjs-dapr-auth] ${line}`),
  error: (line) => console.error(`[nestjs-dapr-auth] ${line}`),
};

class TokenCheck implements DaprTokenCheck {
  readonly ready: Promise<void> = Promise.resolve();
  private recorder: DecisionRecorder = NO_RECORDER;
  private readonly verifier: TokenVerifier;
  private readonly rejectionLog: RejectionLog;
  /** Writes a rejection line at `logRejections`' level. */
  private readonly line: (line: string) => void;
  private readonly header: string;
  /** undefined: the probe needs the token too. */
  private readonly probePath: string | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: ResolvedDaprAuthOptions,
    logger: DaprTokenCheckLogger,
  ) {
    this.header = options.tokenHeader;
    this.probePath = options.exemptTokenlessDaprCalls ? options.healthCheckPath : undefined;
    const level = options.logRejections || 'log';
    this.line = (line) => void (logger[level] ? logger[level](line) : level === 'fatal' ? logger.error(line) : logger.log(line));
    this.verifier = new TokenVerifier(options.tokenSource, options.maxTokenLength, false, options.metrics !== undefined);
    this.rejectionLog = new RejectionLog({ [level]: this.line } as never, options.logRejections, options.rejectionLogLimit);
    const metrics = options.metrics;
    if (metrics !== undefined) {
      this.ready = import('../observe/metrics/otel-recorder.js')
        .then(({ createOtelRecorder }) => createOtelRecorder(metrics, { tokenSource: options.tokenSource ?? null, jwt: null }, (line) => logger.warn(line)))
        .then(
          (recorder) => void (this.recorder = recorder),
          (error: unknown) => {
            throw asCheckError(error);
          },
        );
      // Logged, awaited or not (never an unhandled rejection).
      this.ready.catch((error: Error) => logger.error(`${error.message} Metrics are off; the check works.`));
    }
    for (const warning of options.warnings) logger.warn(warning);
    const tokens = options.tokenSource?.getTokens().length;
    logger.log(
      `Checking ${this.header}: ${tokens === undefined ? '' : `${tokens} accepted token(s) from `}${options.tokenOrigin}; ` +
        (this.probePath ? `daprd's health probe (GET ${this.probePath}) passes without it.` : "daprd's health probe needs it too."),
    );
  }

  verifyRequest(request: DaprRequestLike): DaprTokenVerdict {
    if (this.probePath !== undefined && isDaprHealthProbe(request.method, request.originalUrl ?? request.url, this.probePath)) {
      this.recorder.decision(HTTP, 'exempt');
      return ACCEPTED;
    }
    return this.decide(request.headers, request);
  }

  verify(headers: DaprRequestHeaders): DaprTokenVerdict {
    return this.decide(headers);
  }

  close(): Promise<void> {
    this.rejectionLog.flush();
    return (this.closing ??= Promise.resolve(this.options.tokenSource?.close?.()));
  }

  private decide(headers: DaprRequestHeaders | undefined, request?: DaprRequestLike): DaprTokenVerdict {
    const presented: PresentedToken =
      typeof (headers as { get?: unknown } | undefined)?.get === 'function'
        ? ((headers as { get(name: string): string | null }).get(this.header) ?? undefined)
        : (headers as Record<string, string | undefined> | undefined)?.[this.header];
    const reason = this.verifier.verify(presented);
    if (reason === undefined) {
      this.recorder.accepted(HTTP, this.verifier.lastMatch > 0 ? 'previous' : 'current');
      return ACCEPTED;
    }
    this.recorder.decision(HTTP, 'rejected', reason);
    if (this.rejectionLog.admit(HTTP, reason)) this.line(this.describe(presented, reason, request));
    return REJECTED;
  }

  /** Method, route pattern if known, reason: never the token, URL or path. */
  private describe(presented: PresentedToken, reason: TokenRejection, request: DaprRequestLike | undefined): string {
    if (reason === 'mismatch') reason = this.verifier.classify(presented);
    const why =
      reason === 'missing'
        ? `missing token (no ${this.header} header)`
        : reason === 'malformed'
          ? `malformed token: ${malformedTokenDetail(presented, this.options.maxTokenLength, this.header)}`
          : 'token mismatch (not an accepted token)';
    if (request === undefined) return `Rejected HTTP request: ${why}`;
    const method = /^[A-Z]{1,16}$/.test(request.method ?? '') ? request.method : '?';
    return `Rejected HTTP ${method} ${request.routeOptions?.url ?? '(path not logged)'}: ${why}`;
  }
}

/**
 * The Dapr app-token check for a server without Nest (`DaprServer`, Express, Fastify, `node:http`)
 * on the guard's parts: options, constant-time comparison, token file, metrics, rejection log.
 *
 * @throws DaprAuthConfigError at once: a wrong or Nest-only option, no token configured.
 */
export function createDaprTokenCheck(options: DaprTokenCheckOptions = {}): DaprTokenCheck {
  const logger = options?.logger ?? CONSOLE;
  return new TokenCheck(resolveTokenCheckOptions(options, logger), logger);
}
