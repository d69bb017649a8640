import fc from 'fast-check';
import { TokenSet } from './token-set.js';

/**
 * The comparison was rewritten for speed (the presented string compared in place, without the
 * copy into a scratch array): every decision must stay what it was. The earlier implementation,
 * kept here as the reference, and the current one answer the same over generated token sets and
 * presented values: equal tokens, near-misses, prefixes, extensions, other lengths, any Unicode.
 */
class ReferenceTokenSet {
  private readonly accepted: Uint16Array[];
  private readonly scratch: Uint16Array;
  constructor(tokens: readonly string[], maxTokenLength: number) {
    this.accepted = tokens.map((token) => Uint16Array.from(token, (character) => character.charCodeAt(0)));
    this.scratch = new Uint16Array(Math.max(maxTokenLength, ...tokens.map((token) => token.length), 0));
  }
  matchIndex(presented: string): number {
    const length = presented.length;
    if (length > this.scratch.length) return -1;
    for (let i = 0; i < length; i++) this.scratch[i] = presented.charCodeAt(i);
    let matched = 0;
    for (let i = 0; i < this.accepted.length; i++) {
      const token = this.accepted[i];
      let difference = 0;
      for (let j = 0; j < token.length; j++) difference |= this.scratch[j] ^ token[j];
      matched |= ((difference === 0 ? 1 : 0) & (length === token.length ? 1 : 0)) * (i + 1);
    }
    return matched - 1;
  }
}

const MAX = 64;
const token = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), minLength: 1, maxLength: 40 });
const tokens = fc.uniqueArray(token, { minLength: 1, maxLength: 8 });

/** A presented value related to the tokens: one of them, or one changed, cut, extended, or anything. */
const presentedFor = (list: string[]) =>
  fc.oneof(
    fc.constantFrom(...list),
    fc
      .tuple(fc.constantFrom(...list), fc.nat(), fc.integer({ min: 0, max: 0xffff }))
      .map(([t, i, code]) => t.slice(0, i % t.length) + String.fromCharCode(code) + t.slice((i % t.length) + 1)),
    fc.tuple(fc.constantFrom(...list), fc.nat()).map(([t, n]) => t.slice(0, n % (t.length + 1))),
    fc.tuple(fc.constantFrom(...list), fc.string({ maxLength: 3 })).map(([t, extra]) => t + extra),
    fc.string({ unit: 'binary', maxLength: MAX + 8 }),
    fc.constant(''),
  );

describe('TokenSet decisions are unchanged by the in-place comparison', () => {
  it('matches the reference implementation on generated inputs', () => {
    fc.assert(
      fc.property(
        tokens.chain((list) => fc.tuple(fc.constant(list), fc.array(presentedFor(list), { minLength: 1, maxLength: 20 }))),
        ([list, presentedValues]) => {
          const current = new TokenSet(list, MAX);
          const reference = new ReferenceTokenSet(list, MAX);
          for (const presented of presentedValues) {
            // The reference refused values longer than its buffer; the guard's format check refuses them before any match counts.
            const expected = presented.length > MAX ? -1 : reference.matchIndex(presented);
            const actual = current.matchIndex(presented);
            if (presented.length <= MAX) expect(actual).toBe(expected);
            else expect(actual === -1 || list[actual] === presented).toBe(true);
          }
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 2000) },
    );
  });
});
