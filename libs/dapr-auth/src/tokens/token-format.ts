/**
 * The shape every token must have, configured or presented: 1..maxLength characters of visible
 * ASCII (0x21-0x7E). Whitespace is excluded, which also rules out two header values that Node
 * joined as `"a, b"`, and a trailing newline left by `echo` or a file.
 */
export function isWellFormedToken(value: string, maxLength: number): boolean {
  const length = value.length;
  if (length === 0 || length > maxLength) return false;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return false;
  }
  return true;
}
