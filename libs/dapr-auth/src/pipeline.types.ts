/**
 * The types the guard's pipeline and every transport adapter share. They live here, below both,
 * so that an adapter needs neither the options nor the guard for them.
 */

/**
 * The token value(s) a caller presented, as a transport adapter (or a custom
 * `extractToken` option) read them: `undefined` when there is none. More than
 * one value is always a rejection.
 */
export type PresentedToken = string | readonly string[] | undefined;

/** Why a presented token was refused before any JWT check; logged, never sent to the caller. */
export type TokenRejection = 'missing' | 'malformed' | 'mismatch';
