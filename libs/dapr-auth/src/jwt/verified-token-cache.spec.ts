import { VerifiedTokenCache } from './verified-token-cache.js';

describe('VerifiedTokenCache', () => {
  const entry = (expiresAt: number) => ({ claims: {}, expiresAt });

  it('keys by a hash of the token, never the token itself', () => {
    const key = VerifiedTokenCache.keyOf('header.payload.signature');
    expect(key).toHaveLength(44); // base64 of 32 bytes
    expect(key).not.toContain('payload');
    expect(VerifiedTokenCache.keyOf('header.payload.signature')).toBe(key);
  });

  it('is bounded: the least recently used entry goes first', () => {
    const cache = new VerifiedTokenCache(3);
    const far = Date.now() + 60_000;
    for (const key of ['a', 'b', 'c']) cache.set(key, entry(far));
    expect(cache.get('a')).toBeDefined(); // a is now the most recently used
    cache.set('d', entry(far));
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((key) => cache.get(key) !== undefined)).toEqual([true, true, true]);
    for (let i = 0; i < 10_000; i++) cache.set(`k${i}`, entry(far));
    expect(cache.size).toBe(3);
  });

  it('never answers past the expiry, and forgets the entry', () => {
    const cache = new VerifiedTokenCache(10);
    const now = Date.now();
    cache.set('t', entry(now + 1000));
    expect(cache.get('t', now + 999)).toBeDefined();
    expect(cache.get('t', now + 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('size 0 keeps nothing', () => {
    const cache = new VerifiedTokenCache(0);
    cache.set('t', entry(Date.now() + 1000));
    expect(cache.get('t')).toBeUndefined();
  });
});
