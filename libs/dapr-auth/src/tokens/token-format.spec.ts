import { isWellFormedToken } from './token-format.js';

describe('isWellFormedToken', () => {
  it.each([
    ['a', true],
    ['!~', true],
    ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', true],
    ['a'.repeat(16), true],
  ])('accepts %j', (value, expected) => {
    expect(isWellFormedToken(value, 64)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['a b', 'a space'],
    ['a, b', 'two joined header values'],
    ['abc\n', 'a trailing newline'],
    ['\tabc', 'a tab'],
    ['abc\u007f', 'DEL'],
    ['abc\u00e9', 'latin1'],
    ['abc\u2603', 'non-latin Unicode'],
    ['abc\u0000', 'NUL'],
  ])('rejects %j (%s)', (value) => {
    expect(isWellFormedToken(value, 64)).toBe(false);
  });

  it('enforces the maximum length exactly', () => {
    expect(isWellFormedToken('a'.repeat(64), 64)).toBe(true);
    expect(isWellFormedToken('a'.repeat(65), 64)).toBe(false);
  });
});
