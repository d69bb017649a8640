/**
 * Builds a rejection without capturing a stack trace. A rejection's stack always points at the
 * guard and is never printed (Nest's exception filters answer HTTP and RPC exceptions without
 * logging them), yet capturing it is most of what building one costs: about 4 µs of the ~5 µs.
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

const isPlainObject = (value: unknown): value is object => typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/**
 * Returns a maker of rejections like the one `create` builds (once, here, without a stack trace):
 * each call returns a new exception of the same class, made without running a constructor. Even
 * without a stack trace, running Error's and HttpException's constructors cost a rejection about
 * 1 µs, as much as the rest of the guard (bench/history.md); this costs a few dozen ns.
 *
 * The template's fields (`status`, `message`, `name`, ...) and a one-line `stack` are shared
 * through a prototype made here; each copy owns a new copy of every plain-object field (the
 * response body and options, an RpcException's error), so an exception filter that adds to one never changes
 * the next. What Nest's filters and any of the app's read is the same: `instanceof` the class
 * (and Error), `getResponse()` / `getStatus()` / `getError()`, `message`, `name`, `stack`; a
 * field a filter assigns becomes the copy's own.
 */
export function rejectionMaker<T extends object>(create: () => T): () => T {
  const template = withoutStackTrace(create);
  const shared = Object.create(Object.getPrototypeOf(template) as object, {
    stack: { value: (template as { stack?: string }).stack, writable: true, configurable: true },
  }) as object;
  Object.assign(shared, template);
  const objects = Object.entries(template).filter((entry): entry is [string, object] => isPlainObject(entry[1]));
  return () => {
    const rejection = Object.create(shared) as Record<string, unknown>;
    for (let i = 0; i < objects.length; i++) rejection[objects[i][0]] = { ...objects[i][1] };
    return rejection as T;
  };
}
