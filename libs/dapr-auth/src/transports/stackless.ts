/**
 * Builds a rejection without capturing a stack trace. A rejection's stack always points at the
 * guard and is never printed (Nest's exception filters answer HTTP and RPC exceptions without
 * logging them), yet capturing it is most of what a rejection costs: about 4 µs of the ~5 µs.
 */
export function withoutStackTrace<T>(create: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return create();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
