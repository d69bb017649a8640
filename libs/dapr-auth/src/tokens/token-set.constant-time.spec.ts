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
    ['a wrong token of an accepted length', 'token-one-valuX', false],
    ['a much longer value', 'x'.repeat(4000), false],
    ['a prefix of a token', 'token-one', false],
    ['a token with one more character', 'token-one-value!', false],
  ])('compares all accepted tokens, in constant time, when the value is %s', (_case, presented, expected) => {
    expect(set.matches(presented)).toBe(expected);
    expect(timingSafeEqual).toHaveBeenCalledTimes(3);
    // Each call compares an accepted token's length of bytes, whatever the presented length: the
    // work never depends on the presented value, and timingSafeEqual never throws on a mismatch.
    // (The presented token is copied once into a buffer made at start-up: no allocation.)
    expect(timingSafeEqual.mock.calls.map(([a, b]) => [a.byteLength, b.byteLength])).toEqual([
      [15, 15],
      [15, 15],
      [17, 17],
    ]);
  });
});

describe('TokenSet work per comparison', () => {
  it('copies the presented token once and compares the same bytes, whether or not its length is an accepted length', () => {
    const set = new TokenSet(['token-one-value'], 64);
    const write = jest.spyOn(Buffer.prototype, 'write');
    const shapes = ['token-one-valuX', 'token-one-valuXY', 'x'].map((presented) => {
      write.mockClear();
      timingSafeEqual.mockClear();
      expect(set.matches(presented)).toBe(false);
      return { writes: write.mock.calls.length, compared: timingSafeEqual.mock.calls.map(([a, b]) => [a.byteLength, b.byteLength]) };
    });
    write.mockRestore();
    expect(shapes).toEqual([shapes[0], shapes[0], shapes[0]]);
    expect(shapes[0]).toEqual({ writes: 1, compared: [[15, 15]] });
  });
});
