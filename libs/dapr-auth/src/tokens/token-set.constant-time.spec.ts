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
    ['a prefix of a token', 'token-one', false],
    ['a token with one more character', 'token-one-value!', false],
  ])('compares all accepted tokens, in constant time, when the value is %s', (_case, presented, expected) => {
    expect(set.matches(presented)).toBe(expected);
    expect(timingSafeEqual).toHaveBeenCalledTimes(3);
    // Each call compares an accepted token's length of bytes, whatever the presented length: the
    // work never depends on the presented value, and timingSafeEqual never throws on a mismatch.
    // (A presented token of the right length is copied into a buffer made once: no allocation.)
    expect(timingSafeEqual.mock.calls.map(([a, b]) => [a.byteLength, b.byteLength])).toEqual([
      [15, 15],
      [15, 15],
      [17, 17],
    ]);
  });
});
