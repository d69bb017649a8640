import { jest } from '@jest/globals';

// Wrap constantTimeEqual to see every comparison; the module under test imports it.
const actual = await import('./constant-time-equal.js');
const constantTimeEqual = jest.fn(actual.constantTimeEqual);
jest.unstable_mockModule('./constant-time-equal.js', () => ({ constantTimeEqual }));
const { TokenSet } = await import('./token-set.js');

/** What each comparison covered: the lengths of both arrays and how many code units were compared. */
const comparisons = () => constantTimeEqual.mock.calls.map(([a, b, length]) => [a.length, b.length, length]);

describe('TokenSet comparison', () => {
  const set = new TokenSet(['token-one-value', 'token-two-value', 'token-three-value'], 4096);
  beforeEach(() => constantTimeEqual.mockClear());

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
    // Each call compares an accepted token's length of code units against the same start-up
    // scratch array, whatever the presented length: the work never depends on the presented value.
    expect(comparisons()).toEqual([
      [4096, 15, 15],
      [4096, 15, 15],
      [4096, 17, 17],
    ]);
  });

  it('compares each accepted token against the same scratch array (made at start-up: no allocation per request)', () => {
    set.matches('token-one-valuX');
    set.matches('x');
    const scratches = new Set(constantTimeEqual.mock.calls.map(([scratch]) => scratch));
    expect(scratches.size).toBe(1);
  });
});

describe('constantTimeEqual', () => {
  const codes = (text: string) => Uint16Array.from(text, (character) => character.charCodeAt(0));

  it('is true only when every compared code unit is equal', () => {
    expect(actual.constantTimeEqual(codes('abcdef'), codes('abcdef'), 6)).toBe(true);
    expect(actual.constantTimeEqual(codes('abcdef'), codes('abcdeg'), 6)).toBe(false);
    expect(actual.constantTimeEqual(codes('Xbcdef'), codes('abcdef'), 6)).toBe(false);
    expect(actual.constantTimeEqual(codes('abcdefXYZ'), codes('abcdef'), 6)).toBe(true); // only `length` units
  });

  it('tells apart characters a byte-wise copy would confuse (U+0141 vs "A")', () => {
    expect(actual.constantTimeEqual(codes('\u0141'), codes('A'), 1)).toBe(false);
  });

  it('reads every code unit, with no early exit', () => {
    // A Proxy counts the reads; a difference at the first position must not stop the loop.
    const reads: number[] = [];
    const counted = (array: Uint16Array) =>
      new Proxy(array, {
        get(target, key) {
          if (typeof key === 'string' && /^\d+$/.test(key)) reads.push(Number(key));
          return Reflect.get(target, key) as unknown;
        },
      });
    expect(actual.constantTimeEqual(counted(codes('Xbcdefgh')), codes('abcdefgh'), 8)).toBe(false);
    expect(reads).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
