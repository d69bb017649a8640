import { constantTimeEqual } from './constant-time-equal.js';

/**
 * An immutable snapshot of the accepted tokens, and the one place a presented token is compared.
 *
 * The presented token's UTF-16 code units are copied once into a scratch array made at start-up
 * (as long as the longest token allowed): that copy's work depends on the presented length alone.
 * Then each accepted token is compared with {@link constantTimeEqual} against the first code units
 * of that array, every one of them, with no early exit: that work depends on the accepted tokens'
 * lengths alone. The lengths are compared as numbers, and a match needs both. So the time does
 * not tell which token matched, nor whether the presented length was an accepted token's length
 * (a wrong token of the right length costs what a wrong token of another length of the same size
 * costs; the micro benchmark has both rows).
 *
 * It runs on every request, so it allocates nothing. (Hashing both sides would also hide lengths,
 * at several times the cost: about 0.6 µs of SHA-256 per request.) Code units, not bytes: a
 * presented string equal to an accepted token is that token, character for character, so a match
 * is also well-formed, and the format check can wait for a mismatch (TokenVerifier).
 */
export class TokenSet {
  private readonly accepted: readonly Uint16Array[];
  private readonly scratch: Uint16Array;

  /** @param maxTokenLength the longest presented token that reaches {@link TokenSet.matchIndex} */
  constructor(tokens: readonly string[], maxTokenLength = 0) {
    this.accepted = tokens.map((token) => Uint16Array.from(token, (character) => character.charCodeAt(0)));
    this.scratch = new Uint16Array(Math.max(maxTokenLength, ...tokens.map((token) => token.length), 0));
  }

  /** Number of accepted tokens. */
  get size(): number {
    return this.accepted.length;
  }

  /** Whether `presented` equals one of the accepted tokens, in constant time. */
  matches(presented: string): boolean {
    return this.matchIndex(presented) >= 0;
  }

  /**
   * Which accepted token `presented` equals (0: the first, the current one of a rotation), or -1;
   * in constant time: every token is compared, and the index is folded in without a branch.
   * Longer than the scratch array (than `maxTokenLength`): -1 at once, which tells nothing but
   * that length.
   */
  matchIndex(presented: string): number {
    const length = presented.length;
    const scratch = this.scratch;
    if (length > scratch.length) return -1;
    // Code units past `length` are left from earlier requests; the length check below makes them irrelevant.
    for (let i = 0; i < length; i++) scratch[i] = presented.charCodeAt(i);
    let matched = 0;
    for (let i = 0; i < this.accepted.length; i++) {
      const token = this.accepted[i];
      matched |= ((constantTimeEqual(scratch, token, token.length) ? 1 : 0) & (length === token.length ? 1 : 0)) * (i + 1);
    }
    return matched - 1;
  }
}
