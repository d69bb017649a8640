import { createHash, timingSafeEqual } from 'node:crypto';

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * An immutable snapshot of the accepted tokens, and the one place a presented token is compared.
 *
 * Both sides are hashed to SHA-256 first, so the comparison takes the same time whatever the
 * lengths; every accepted digest is compared, with no early exit, so the time does not tell which
 * token (if any) matched.
 */
export class TokenSet {
  private readonly digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(sha256);
  }

  /** Number of accepted tokens. */
  get size(): number {
    return this.digests.length;
  }

  /** Whether `presented` equals one of the accepted tokens, in constant time. */
  matches(presented: string): boolean {
    const candidate = sha256(presented);
    let matched = 0;
    for (const digest of this.digests) {
      matched |= timingSafeEqual(digest, candidate) ? 1 : 0;
    }
    return matched === 1;
  }
}
