/**
 * One accepted token, held twice: its text, and its code units in an `Int32Array` (reading a typed
 * array in a loop is cheaper than `charCodeAt` on a string: bench/history.md).
 */
export interface AcceptedToken {
  readonly text: string;
  readonly codes: Int32Array;
}

/** Holds `token` for {@link constantTimeEqual}. */
export function acceptedToken(token: string): AcceptedToken {
  return { text: flatten(token), codes: Int32Array.from(token, (character) => character.charCodeAt(0)) };
}

/**
 * Whether `presented` equals `accepted`, in constant time: one iteration per code unit of the
 * accepted token, each doing the same work (one read of a string of that length, one of the codes,
 * XOR, OR) with no early exit and no branch on the data. So the time depends on the accepted
 * token's length alone: not on where (or whether) the values differ, nor on the presented length.
 * A presented value of another length is never read: the loop reads the accepted token's own text
 * instead (the same work over the same length, a zero difference), and the lengths' difference is
 * folded in, which makes it a mismatch. Like `crypto.timingSafeEqual`'s CRYPTO_memcmp, but on the
 * strings themselves: no copy, no native call, whose own overhead was most of what comparing cost.
 */
export function constantTimeEqual(presented: string, accepted: AcceptedToken): boolean {
  const codes = accepted.codes;
  const length = codes.length;
  // A select on the length, not a branch around work: both sides are a string of `length` code units.
  const source = presented.length === length ? presented : accepted.text;
  let difference = presented.length ^ length;
  // Four code units per iteration (half the time of one: bench/history.md), then the rest.
  const fours = length & ~3;
  let i = 0;
  for (; i < fours; i += 4) {
    difference |=
      (source.charCodeAt(i) ^ codes[i]) |
      (source.charCodeAt(i + 1) ^ codes[i + 1]) |
      (source.charCodeAt(i + 2) ^ codes[i + 2]) |
      (source.charCodeAt(i + 3) ^ codes[i + 3]);
  }
  for (; i < length; i++) difference |= source.charCodeAt(i) ^ codes[i];
  return difference === 0;
}

/** A flat string with the same content (a token built by concatenation, a cons string, is slower to index). */
function flatten(value: string): string {
  return value.length === 0 ? value : Buffer.from(value, 'utf16le').toString('utf16le');
}
