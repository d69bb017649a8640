/**
 * The shape every token must have, configured or presented: 1..maxLength characters of visible
 * ASCII (0x21-0x7E). Whitespace is excluded, which also rules out two header values that Node
 * joined as `"a, b"`, and a trailing newline left by `echo` or a file.
 */
/**
 * Which rule a malformed presented token broke, for the log (never the value): the guard calls it
 * only after refusing one, off the accepted path.
 *
 * @param tokenHeader the header / metadata key the token comes in (option `tokenHeader`), named by the reason
 */
export function malformedTokenDetail(presented: unknown, maxLength: number, tokenHeader: string): string {
  const severalValues = `several values (a second ${tokenHeader} header or metadata entry)`;
  if (Array.isArray(presented) && presented.length > 1) return severalValues;
  const value: unknown = Array.isArray(presented) ? presented[0] : presented;
  if (typeof value !== 'string') return 'not text (a binary gRPC metadata value)';
  // Node joins repeated HTTP headers as "a, b": several values, not one odd one.
  if (/, /.test(value) && value.split(', ').every((part) => isWellFormedToken(part, maxLength))) return severalValues;
  if (value.length > maxLength) return `too long (${value.length} characters, maxTokenLength is ${maxLength})`;
  return 'characters outside visible ASCII (a space, a line break, a control or a non-ASCII character)';
}

/** Visible ASCII only, at least one character (`$` without the `m` flag is the end of the input). */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * Whether `value` has the shape of a token. A regular expression: V8's compiled matcher checks a
 * token's characters in about half the time of a `charCodeAt` loop (bench/history.md).
 */
export function isWellFormedToken(value: string, maxLength: number): boolean {
  return value.length <= maxLength && VISIBLE_ASCII.test(value);
}
