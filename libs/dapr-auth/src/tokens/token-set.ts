import { type AcceptedToken, acceptedToken, constantTimeEqual } from './constant-time-equal.js';

/**
 * An immutable snapshot of the accepted tokens, and the one place a presented token is compared.
 *
 * Each accepted token is compared with {@link constantTimeEqual}, every one of them, with no early
 * exit: that work depends on the accepted tokens' lengths alone, never on the presented value (not
 * even its length: a value of another length is not read, the token's own text is, over the same
 * length). So the time does not tell which token matched, nor whether the presented length was an
 * accepted token's length (a wrong token of the right length costs what a wrong token of another
 * length costs; the micro benchmark has both rows).
 *
 * It runs on every request, so it allocates nothing and copies nothing. (Hashing both sides would
 * also hide lengths, at several times the cost: about 0.6 µs of SHA-256 per request.) Code units,
 * not bytes: a presented string equal to an accepted token is that token, character for character,
 * so a match is also well-formed, and the format check can wait for a mismatch (TokenVerifier).
 */
export class TokenSet {
  private readonly accepted: readonly AcceptedToken[];

  /** @param _maxTokenLength kept for compatibility: the comparison needs no buffer */
  constructor(tokens: readonly string[], _maxTokenLength = 0) {
    this.accepted = tokens.map(acceptedToken);
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
   */
  matchIndex(presented: string): number {
    const accepted = this.accepted;
    let matched = 0;
    for (let i = 0; i < accepted.length; i++) matched |= (constantTimeEqual(presented, accepted[i]) ? 1 : 0) * (i + 1);
    return matched - 1;
  }
}
