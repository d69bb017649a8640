import { jest } from '@jest/globals';

// Wrap constantTimeEqual to see every comparison; the module under test imports it.
const actual = await import('./constant-time-equal.js');
const constantTimeEqual = jest.fn(actual.constantTimeEqual);
jest.unstable_mockModule('./constant-time-equal.js', () => ({ constantTimeEqual }));
const { TokenSet } = await import('./token-set.js');

/** What each comparison covered: the accepted token it was against (by length: the work is that length). */
const comparisons = () => constantTimeEqual.mock.calls.map(([, accepted]) => accepted.length);

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
    // Every accepted token is compared, each over its own length, whatever the presented value:
    // the work never depends on it.
    expect(comparisons()).toEqual([15, 15, 17]);
  });
});

describe('constantTimeEqual', () => {
  it('is true only for the same code units and the same length', () => {
    expect(actual.constantTimeEqual('abcdef', 'abcdef')).toBe(true);
    expect(actual.constantTimeEqual('abcdeg', 'abcdef')).toBe(false);
    expect(actual.constantTimeEqual('Xbcdef', 'abcdef')).toBe(false);
    expect(actual.constantTimeEqual('abcdefXYZ', 'abcdef')).toBe(false); // longer
    expect(actual.constantTimeEqual('abcde', 'abcdef')).toBe(false); // a prefix
    expect(actual.constantTimeEqual('', 'abcdef')).toBe(false);
    expect(actual.constantTimeEqual('abcdeg', 'abcdefg')).toBe(false); // shorter, every compared unit but one equal
  });

  it('tells apart characters a byte-wise copy would confuse (U+0141 vs "A")', () => {
    expect(actual.constantTimeEqual('\u0141', 'A')).toBe(false);
  });

  /** A string-like value that records which code units are read. */
  const counted = (text: string, reads: number[]) =>
    ({ length: text.length, charCodeAt: (index: number) => (reads.push(index), text.charCodeAt(index)) }) as unknown as string;

  it.each([
    ['differs at the first position', 'Xbcdefgh'],
    ['is equal', 'abcdefgh'],
    ['is shorter (a prefix)', 'abc'],
    ['is longer', 'abcdefghijkl'],
  ])('reads every code unit of the accepted token, with no early exit, when the presented value %s', (_case, presented) => {
    const readsOfAccepted: number[] = [];
    actual.constantTimeEqual(presented, counted('abcdefgh', readsOfAccepted));
    expect(readsOfAccepted).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // And of the presented value exactly as many reads, whatever its length, each one in bounds
    // (past its end, position 0 again): the same work for every presented length.
    const readsOfPresented: number[] = [];
    actual.constantTimeEqual(counted(presented, readsOfPresented), 'abcdefgh');
    expect(readsOfPresented).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((index) => (index < presented.length ? index : 0)));
  });
});
