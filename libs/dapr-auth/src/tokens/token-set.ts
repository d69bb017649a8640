import * as crypto from 'node:crypto';

/** One accepted token, and a buffer of its length that a presented token is copied into. */
interface AcceptedToken {
  readonly bytes: Buffer;
  readonly scratch: Buffer;
}

/**
 * An immutable snapshot of the accepted tokens, and the one place a presented token is compared.
 *
 * Each accepted token is compared byte for byte with `timingSafeEqual`, every one of them, with no
 * early exit, so the time does not tell which token (if any) matched. A presented token of another
 * length is not compared with a shorter or longer buffer (which would throw, or leak the length):
 * the accepted token is compared with itself instead, which takes the same time, so the time does
 * not tell whether the length was right either. The work depends only on the accepted tokens'
 * lengths, which are the same for every request.
 *
 * It runs on every request, so it allocates nothing: the presented token is written into a buffer
 * made once per accepted token. (Hashing both sides instead would also hide lengths, at several
 * times the cost: about 0.6 µs of SHA-256 per request.)
 *
 * Only well-formed tokens reach it (visible ASCII, checked by TokenVerifier first), for which the
 * one-byte `latin1` encoding is exact.
 */
export class TokenSet {
  private readonly accepted: readonly AcceptedToken[];

  constructor(tokens: readonly string[]) {
    this.accepted = tokens.map((token) => {
      const bytes = Buffer.from(token, 'latin1');
      return { bytes, scratch: Buffer.alloc(bytes.length) };
    });
  }

  /** Number of accepted tokens. */
  get size(): number {
    return this.accepted.length;
  }

  /** Whether `presented` (well-formed: visible ASCII) equals one of the accepted tokens, in constant time. */
  matches(presented: string): boolean {
    let matched = 0;
    for (const { bytes, scratch } of this.accepted) {
      const sameLength = presented.length === bytes.length;
      if (sameLength) scratch.write(presented, 0, 'latin1');
      const equal = crypto.timingSafeEqual(sameLength ? scratch : bytes, bytes);
      matched |= equal && sameLength ? 1 : 0;
    }
    return matched === 1;
  }
}
