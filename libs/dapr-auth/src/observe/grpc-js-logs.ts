/** The part of `@grpc/grpc-js` this needs: its `setLogger` (`import * as grpc from '@grpc/grpc-js'`). */
export interface GrpcJsLogging {
  setLogger(logger: Partial<Console>): void;
}

/** Where the redacted lines go; `console` by default, like grpc-js's own logger. */
export type GrpcLogSink = Pick<Console, 'error'>;

const TOKEN_ENTRY = /(dapr-api-token(?:-bin)?)\b[\s\S]*/i;
/** grpc-js's refusal of ANY metadata entry (`Failed to add metadata entry <key>: <value>...`): the key may be a custom `tokenHeader`. */
const REFUSED_ENTRY = /(Failed to add metadata entry [^\s:]*):[\s\S]*/i;
const REDACTED = ': [value redacted by nestjs-dapr-auth]';

/** Replaces everything after a `dapr-api-token` key, and the value of any metadata entry grpc-js refused, in a grpc-js log message. */
export function redactDaprTokenInMessage(message: unknown): unknown {
  return typeof message === 'string' ? message.replace(REFUSED_ENTRY, `$1${REDACTED}`).replace(TOKEN_ENTRY, `$1${REDACTED}`) : message;
}

/**
 * Keeps presented tokens out of grpc-js's own logs.
 *
 * grpc-js checks incoming metadata before any Nest guard runs, and when it refuses an entry (a
 * value with characters outside printable ASCII, for instance) it logs the key AND the value at
 * ERROR level, twice over: `Failed to add metadata entry dapr-api-token: <value>. Metadata string
 * value "<value>" contains illegal characters`. Whatever a caller put in `dapr-api-token`, a
 * near-miss of the real token included, would land in your logs. The guard never sees that value
 * (the entry is dropped, so the call is rejected as having no token).
 *
 * Call this once at start-up, with the same `@grpc/grpc-js` your microservice uses. It installs a
 * grpc-js logger that prints like grpc-js's default (`E `, `I `, `D ` prefixes on stderr) but cuts
 * every message at a `dapr-api-token` key, and the value of every metadata entry grpc-js refuses,
 * whatever its key (so a custom `tokenHeader` is covered too). It replaces any logger set before; if you set your own
 * grpc-js logger, pass its messages through {@link redactDaprTokenInMessage} instead.
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import { redactDaprTokensInGrpcJsLogs } from 'nestjs-dapr-auth';
 * redactDaprTokensInGrpcJsLogs(grpc);
 * ```
 */
export function redactDaprTokensInGrpcJsLogs(grpc: GrpcJsLogging, sink: GrpcLogSink = console): void {
  const line =
    (prefix: string) =>
    (message?: unknown, ...rest: unknown[]) =>
      sink.error(`${prefix} ${String(redactDaprTokenInMessage(message))}`, ...rest.map(redactDaprTokenInMessage));
  grpc.setLogger({ error: line('E'), info: line('I'), debug: line('D') });
}
