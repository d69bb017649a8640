/**
 * Loads a package only when a feature needs it (an optional peer, or jose): with `require` where
 * this library runs as CommonJS, so that it also works where `import()` does not (Jest without ES
 * module support, as Nest 11 apps run their tests), else with `import()`. For CommonJS packages
 * (`@nestjs/microservices` 11, `@opentelemetry/api`, `@nestjs/core`'s helpers); an ES-module-only
 * one that `require` refuses is imported instead.
 *
 * @throws what loading threw (for example MODULE_NOT_FOUND).
 */
export async function importOptional<T>(specifier: string): Promise<T> {
  if (typeof require === 'function') {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS build: see above
      return require(specifier) as T;
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_REQUIRE_ESM' && (error as { code?: string }).code !== 'ERR_REQUIRE_ASYNC_MODULE') throw error;
    }
  }
  return (await import(specifier)) as T;
}

/** Where a part logs that runs with or without Nest. */
export interface LineLogger {
  log(message: string): void;
  error(message: string): void;
}

/**
 * Nest's `Logger` for `context`, loaded at the first line (a microtask late, in order), so that a
 * part that must load without Nest (a token file under `nestjs-dapr-auth/standalone`) imports none.
 */
export function nestLoggerOnFirstLine(context: string): LineLogger {
  type Nest = { Logger?: new (context: string) => LineLogger; default?: Nest };
  let logger: Promise<LineLogger> | undefined;
  const write = (level: keyof LineLogger, message: string): void => {
    logger ??= importOptional<Nest>('@nestjs/common').then((nest) => new (nest.Logger ?? nest.default!.Logger!)(context));
    logger.then((loaded) => loaded[level](message)).catch(() => undefined);
  };
  return { log: (message) => write('log', message), error: (message) => write('error', message) };
}
