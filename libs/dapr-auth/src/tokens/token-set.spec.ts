import { TokenSet } from './token-set.js';

describe('TokenSet', () => {
  const set = new TokenSet(['first-token-value', 'second-token-value']);

  it('matches every accepted token', () => {
    expect(set.matches('first-token-value')).toBe(true);
    expect(set.matches('second-token-value')).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['a prefix', 'first-token-valu'],
    ['with a suffix', 'first-token-valuex'],
    ['in another case', 'FIRST-TOKEN-VALUE'],
    ['10,000 characters', 'x'.repeat(10_000)],
  ])('does not match a value %s', (_case, value) => {
    expect(set.matches(value)).toBe(false);
  });

  it('an empty set matches nothing (fail closed)', () => {
    expect(new TokenSet([]).matches('')).toBe(false);
    expect(new TokenSet([]).matches('anything')).toBe(false);
  });
});
