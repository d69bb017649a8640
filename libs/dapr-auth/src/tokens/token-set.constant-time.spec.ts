import { jest } from '@jest/globals';

// Wrap constantTimeEqual to see every comparison; the module under test imports it.
const actual = await import('./constant-time-equal.js');
const constantTimeEqual = jest.fn(actual.constantTimeEqual);
jest.unstable_mockModule('./constant-time-equal.js', () => ({ ...actual, constantTimeEqual }));
const { TokenSet } = await import('./token-set.js');
type AcceptedToken = import('./constant-time-equal.js').AcceptedToken;

/** What each comparison covered: the accepted token it was against (by length: the work is that length). */
const comparisons = () => constantTimeEqual.mock.calls.map(([, accepted]) => accepted.codes.length);

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
  const equal = (presented: string, accepted: string) => actual.constantTimeEqual(presented, actual.acceptedToken(accepted));

  it('is true only for the same code units and the same length', () => {
    expect(equal('abcdef', 'abcdef')).toBe(true);
    expect(equal('abcdeg', 'abcdef')).toBe(false);
    expect(equal('Xbcdef', 'abcdef')).toBe(false);
    expect(equal('abcdefXYZ', 'abcdef')).toBe(false); // longer
    expect(equal('abcde', 'abcdef')).toBe(false); // a prefix
    expect(equal('', 'abcdef')).toBe(false);
    expect(equal('abcdeg', 'abcdefg')).toBe(false); // shorter, every compared unit but one equal
  });

  it('tells apart characters a byte-wise copy would confuse (U+0141 vs "A")', () => {
    expect(equal('\u0141', 'A')).toBe(false);
    expect(equal('A', '\u0141')).toBe(false);
    expect(equal('\u0141', '\u0141')).toBe(true);
  });

  /** A string-like value that records which code units are read. */
  const counted = (text: string, reads: number[]) =>
    ({ length: text.length, charCodeAt: (index: number) => (reads.push(index), text.charCodeAt(index)) }) as unknown as string;
  /** An accepted token whose text and codes record their reads. */
  const countedToken = (text: string, textReads: number[], codeReads: number[]): AcceptedToken => {
    const { codes } = actual.acceptedToken(text);
    const countedCodes = new Proxy(codes, {
      get: (target, key) => {
        if (typeof key === 'string' && /^\d+$/.test(key)) codeReads.push(Number(key));
        return Reflect.get(target, key) as unknown;
      },
    });
    return { text: counted(text, textReads), codes: countedCodes };
  };

  it.each([
    ['differs at the first position', 'Xbcdefgh'],
    ['is equal', 'abcdefgh'],
    ['differs at the last position', 'abcdefgX'],
    ['is shorter (a prefix)', 'abc'],
    ['is longer', 'abcdefghijkl'],
    ['is empty', ''],
  ])('does the same reads, with no early exit, when the presented value %s', (_case, presented) => {
    const presentedReads: number[] = [];
    const textReads: number[] = [];
    const codeReads: number[] = [];
    actual.constantTimeEqual(counted(presented, presentedReads), countedToken('abcdefgh', textReads, codeReads));
    // Every code of the accepted token, once, in order, whatever the presented value.
    expect(codeReads).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // And one string of the accepted length read in full: the presented value when it has that
    // length, else the token's own text (never past the end of either): the same work.
    const stringReads = presented.length === 8 ? presentedReads : textReads;
    expect(stringReads).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(presentedReads.length + textReads.length).toBe(8);
  });
});
