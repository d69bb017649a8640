import * as crypto from 'node:crypto';

/** One accepted token, and the view of the shared scratch buffer it is compared with. */
interface AcceptedToken {
  readonly bytes: Buffer;
  readonly presentedView: Buffer;
}

/**
 * An immutable snapshot of the accepted tokens, and the one place a presented token is compared.
 *
 * The presented token is copied once into a scratch buffer made at start-up (as long as the
 * longest token allowed), whatever its length: that copy's work depends on the presented length
 * alone. Then each accepted token is compared with `timingSafeEqual` against the first bytes of
 * that buffer, every one of them, with no early exit: that work depends on the accepted tokens'
 * lengths alone. The lengths are compared as numbers, and a match needs both. So the time does not
 * tell which token matched, nor whether the presented length was an accepted token's length
 * (a wrong token of the right length costs what a wrong token of another length of the same size
 * costs; the micro benchmark has both rows).
 *
 * It runs on every request, so it allocates nothing. (Hashing both sides would also hide lengths,
 * at several times the cost: about 0.6 µs of SHA-256 per request.)
 *
 * Only well-formed tokens reach it (visible ASCII, checked by TokenVerifier first), for which the
 * one-byte `latin1` encoding is exact.
 */
export class TokenSet {
  private readonly accepted: readonly AcceptedToken[];
  private readonly scratch: Buffer;

  /** @param maxTokenLength the longest presented token that reaches {@link TokenSet.matches} */
  constructor(tokens: readonly string[], maxTokenLength = 0) {
    const encoded = tokens.map((token) => Buffer.from(token, 'latin1'));
    this.scratch = Buffer.alloc(Math.max(maxTokenLength, ...encoded.map((bytes) => bytes.length), 0));
    this.accepted = encoded.map((bytes) => ({ bytes, presentedView: this.scratch.subarray(0, bytes.length) }));
  }

  /** Number of accepted tokens. */
  get size(): number {
    return this.accepted.length;
  }

  /** Whether `presented` (well-formed: visible ASCII) equals one of the accepted tokens, in constant time. */
  matches(presented: string): boolean {
    return this.matchIndex(presented) >= 0;
  }

  /**
   * Which accepted token `presented` equals (0: the first, the current one of a rotation), or -1;
   * in constant time: every token is compared, and the index is folded in without a branch.
   */
  matchIndex(presented: string): number {
    const length = presented.length;
    // Bytes past `length` are left from earlier requests; the length check below makes them irrelevant.
    this.scratch.write(presented, 0, 'latin1');
    let matched = 0;
    for (let i = 0; i < this.accepted.length; i++) {
      const { bytes, presentedView } = this.accepted[i];
      matched |= ((crypto.timingSafeEqual(presentedView, bytes) ? 1 : 0) & (length === bytes.length ? 1 : 0)) * (i + 1);
    }
    return matched - 1;
  }
}
