import { jest } from '@jest/globals';

// Wrap node:crypto's timingSafeEqual to count comparisons; the module under test imports it.
const actual = await import('node:crypto');
const timingSafeEqual = jest.fn(actual.timingSafeEqual);
jest.unstable_mockModule('node:crypto', () => ({ ...actual, timingSafeEqual }));
const { TokenSet } = await import('./token-set.js');

describe('TokenSet comparison', () => {
  const set = new TokenSet(['token-one-value', 'token-two-value', 'token-three-value']);
  beforeEach(() => timingSafeEqual.mockClear());

  it.each([
    ['the first token', 'token-one-value', true],
    ['the last token', 'token-three-value', true],
    ['no token', 'token-four-value', false],
    ['a much longer value', 'x'.repeat(4000), false],
  ])('compares all accepted tokens, in constant time, when the value is %s', (_case, presented, expected) => {
    expect(set.matches(presented)).toBe(expected);
    expect(timingSafeEqual).toHaveBeenCalledTimes(3);
    // Same-length digests whatever the input length: timingSafeEqual never throws on a length mismatch.
    for (const [a, b] of timingSafeEqual.mock.calls) expect([a.byteLength, b.byteLength]).toEqual([32, 32]);
  });
});
