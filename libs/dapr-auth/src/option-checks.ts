import { DaprAuthConfigError } from './dapr-auth.errors.js';

/** Longest delay Node's timers honour: above it, setTimeout fires after 1 ms (and an interval spins). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * What a value is, for an error message: its type, and its value only when that cannot be a
 * secret (numbers and booleans). Strings are never quoted: a misplaced one may be a token.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'string':
      return value === '' ? 'an empty string' : 'a string';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/** An environment variable name as people write them: upper case, digits, `_`. */
const ENV_NAME_SHAPE = /^[A-Z_][A-Z0-9_]{0,63}$/;
/** A path written as one: absolute, `./`, `../` or `~/`, without the `+` and `=` of base64 (a token's alphabet). */
const PATH_SHAPE = /^(\/|\.{1,2}\/|~\/|[A-Za-z]:[\\/])[\w.\-/\\@~ ]{0,4095}$/;

/**
 * A value meant to be an environment variable NAME, for a message: shown only when it has the
 * shape of one, since a token pasted in its place is a plausible mistake.
 */
export function shownEnvName(name: unknown): string {
  // A long name without '_' is more likely a token typed in the wrong place (base32 is upper case and digits).
  return typeof name === 'string' && ENV_NAME_SHAPE.test(name) && (name.includes('_') || name.length <= 12)
    ? name
    : '(name not shown: it does not look like an environment variable name; a token put there?)';
}

/** An option name for a message: shown only when shaped like one (camelCase, short); a key may be a token pasted in the wrong place. */
export function shownOptionName(name: string): string {
  return /^[a-z][A-Za-z0-9]{0,39}$/.test(name) ? `\`${name}\`` : '(a key not shown: it does not look like an option name)';
}

/** A value meant to be a file path, for a message: shown only when written as a path (see {@link shownEnvName}). */
export function shownPath(path: unknown): string {
  return typeof path === 'string' && PATH_SHAPE.test(path) ? path : '(path not shown: write it as /absolute/path or ./relative/path)';
}

/** The start-up checks every option goes through; each error names the option, what it got and the fix. */
export class OptionChecks {
  /** @param prefix how option names are shown, e.g. '' or 'jwt.' */
  constructor(private readonly prefix = '') {}

  fail(name: string, value: unknown, expected: string, fix = ''): never {
    throw new DaprAuthConfigError(`option \`${this.prefix}${name}\` must be ${expected}, got ${describeValue(value)}.${fix ? ` ${fix}` : ''}`);
  }

  boolean(name: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.fail(
        name,
        value,
        'true or false',
        typeof value === 'string'
          ? 'A string such as "false" from an environment variable is not a boolean: convert it, e.g. `config.get(...) === \'true\'`.'
          : '',
      );
    }
    return value;
  }

  /** A whole or fractional number of milliseconds for a timer: finite, within [min, 2^31-1]. */
  milliseconds(name: string, value: unknown, fallback: number, min: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
      this.fail(name, value, `a number of milliseconds from ${min} to ${MAX_TIMER_MS} (about 24.8 days; Node's timers go no further)`);
    }
    return value;
  }

  integer(name: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      this.fail(name, value, max === Number.MAX_SAFE_INTEGER ? `a whole number, ${min} or more` : `a whole number from ${min} to ${max}`);
    }
    return value;
  }

  oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
    if (value === undefined) return fallback;
    if (!allowed.includes(value as T)) this.fail(name, value, `one of ${allowed.map((item) => `'${item}'`).join(', ')}`);
    return value as T;
  }

  /** A string, or a non-empty list of strings; each non-empty. */
  strings(name: string, value: unknown, what: string): readonly string[] | undefined {
    if (value === undefined) return undefined;
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0 || list.some((item) => typeof item !== 'string' || item === '')) {
      this.fail(
        name,
        Array.isArray(value) ? (list.find((item) => typeof item !== 'string' || item === '') ?? value) : value,
        `${what}, or a non-empty list of them`,
      );
    }
    return list as string[];
  }
}
