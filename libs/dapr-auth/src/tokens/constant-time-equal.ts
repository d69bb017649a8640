/**
 * Whether `presented` equals `accepted`, in constant time: one iteration per code unit of
 * `accepted`, each doing the same work (one in-bounds read of each string, XOR, OR) with no early
 * exit and no branch on the data. So the time depends on `accepted.length` alone: not on where (or
 * whether) they differ, nor on the presented length (past its end, position 0 is read again and
 * the iteration counts as a difference; a different length is folded in as a difference too). The
 * same idea as `crypto.timingSafeEqual`'s CRYPTO_memcmp, on the strings themselves: no copy, no
 * native call, whose own overhead was most of what comparing cost (bench/history.md).
 */
export function constantTimeEqual(presented: string, accepted: string): boolean {
  const presentedLength = presented.length;
  const length = accepted.length;
  if (presentedLength === 0) return false; // never a token; and position 0 must exist to be read
  let difference = presentedLength ^ length;
  for (let i = 0; i < length; i++) {
    // 1 once i is past the presented value's end, else 0 (indices and lengths stay below 2^31).
    const past = (presentedLength - 1 - i) >>> 31;
    // `i & (past - 1)`: i while within the value, 0 past its end: always an in-bounds read.
    difference |= (presented.charCodeAt(i & (past - 1)) ^ accepted.charCodeAt(i)) | past;
  }
  return difference === 0;
}
