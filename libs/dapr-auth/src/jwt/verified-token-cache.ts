import * as crypto from 'node:crypto';

// crypto.hash (Node 20.12+) is the one-shot form, about twice as fast as createHash(); this runs
// on every JWT request. A namespace import, so that older Node 20 releases fall back instead of failing.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;
const sha256Base64: (value: string) => string = oneShotHash
  ? (value) => oneShotHash('sha256', value, 'base64')
  : (value) => crypto.createHash('sha256').update(value, 'utf8').digest('base64');

/** What a successful verification established. */
export interface VerifiedToken {
  readonly claims: Readonly<Record<string, unknown>>;
  /** The `kid` of the key that verified it, if the token named one (for metrics). */
  readonly kid?: string;
  /** When the cached result stops being valid (the token's `exp`, in ms). */
  readonly expiresAt: number;
}

/**
 * Successful JWT verifications, keyed by the SHA-256 of the token (the token itself is never
 * kept), bounded in size (least recently used out first), and never used past the token's `exp`:
 * the sidecar sends the same token on every request, so a signature is checked once, not per call.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, VerifiedToken>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  static keyOf(token: string): string {
    return sha256Base64(token);
  }

  get(key: string, now = Date.now()): VerifiedToken | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    this.entries.delete(key);
    if (hit.expiresAt <= now) return undefined;
    this.entries.set(key, hit); // most recently used last
    return hit;
  }

  set(key: string, value: VerifiedToken): void {
    if (this.maxEntries === 0) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }
}
