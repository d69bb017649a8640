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
 * 1 µs, as much as the rest of the guard (bench/history.md); this costs a few ns.
 *
 * The template's fields (`status`, `message`, `name`, ...) and a one-line `stack` are shared
 * through a prototype made here; each copy owns a new copy of every plain-object field (the
 * response body and options, an RpcException's error), so an exception filter that adds to one
 * never changes the next. What Nest's filters and any of the app's read is the same: `instanceof`
 * the class (and Error), `getResponse()` / `getStatus()` / `getError()`, `message`, `name`,
 * `stack`; a field a filter assigns becomes the copy's own.
 *
 * `ownFields`, when given, writes those copies as object literals (a few ns, where copying them
 * field by field costs 30 to 60 ns). It is used only if what it writes equals the template's
 * plain-object fields exactly (same fields, same contents), as checked here; otherwise (another
 * Nest version's shape) the copies are made from the template.
 */
export function rejectionMaker<T extends object>(create: () => T, ownFields?: (rejection: Record<string, unknown>) => void): () => T {
  const template = withoutStackTrace(create);
  const shared = Object.create(Object.getPrototypeOf(template) as object, {
    stack: { value: (template as { stack?: string }).stack, writable: true, configurable: true },
  }) as object;
  Object.assign(shared, template);
  const objects = Object.entries(template).filter((entry): entry is [string, object] => isPlainObject(entry[1]));
  if (ownFields !== undefined && writesTheSameFields(ownFields, objects)) {
    return () => {
      const rejection = Object.create(shared) as Record<string, unknown>;
      ownFields(rejection);
      return rejection as T;
    };
  }
  return () => {
    const rejection = Object.create(shared) as Record<string, unknown>;
    for (let i = 0; i < objects.length; i++) rejection[objects[i][0]] = { ...objects[i][1] };
    return rejection as T;
  };
}

/** Whether `ownFields` writes exactly the template's plain-object fields, with equal contents. */
function writesTheSameFields(ownFields: (rejection: Record<string, unknown>) => void, objects: ReadonlyArray<[string, object]>): boolean {
  const written: Record<string, unknown> = {};
  ownFields(written);
  const expected = Object.fromEntries(objects);
  return JSON.stringify(sortedKeys(written)) === JSON.stringify(sortedKeys(expected));
}

function sortedKeys(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, field]) => [key, sortedKeys(field)]),
  );
}
