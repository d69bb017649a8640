/**
 * Whether the first `length` code units of `a` and `b` are equal, reading every one of them with
 * no early exit: the work depends on `length` alone, never on where (or whether) they differ. The
 * same loop as `crypto.timingSafeEqual`'s CRYPTO_memcmp, in JavaScript: called once per request,
 * a native call's own overhead (and the copy into a Buffer it needs) was most of what comparing
 * cost (bench/history.md).
 */
export function constantTimeEqual(a: Uint16Array, b: Uint16Array, length: number): boolean {
  let difference = 0;
  for (let i = 0; i < length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}
