import type { DaprTokenSource } from './dapr-token-source.js';
import { TokenVerifier } from './token-verifier.js';

const TOKEN = 'verifier-token-0123456789';

describe('TokenVerifier', () => {
  const verifier = new TokenVerifier({ getTokens: () => [TOKEN] }, 64);

  it.each<[string, unknown, string | undefined]>([
    ['the token', TOKEN, undefined],
    ['the token as a one-element list (gRPC metadata)', [TOKEN], undefined],
    ['nothing', undefined, 'missing'],
    ['an empty string', '', 'missing'],
    ['an empty list', [], 'missing'],
    ['two values', [TOKEN, TOKEN], 'malformed'],
    ['two values joined by Node', `${TOKEN}, ${TOKEN}`, 'malformed'],
    ['a non-string', 42, 'malformed'],
    ['a value over maxTokenLength', 'a'.repeat(65), 'malformed'],
    ['a wrong token', `${TOKEN}x`, 'mismatch'],
  ])('%s → %s', (_case, presented, reason) => {
    expect(verifier.verify(presented)).toBe(reason);
  });

  it('without classifyMismatches, calls every unmatched string a mismatch, and classify() tells them apart as verify() would', () => {
    const lazy = new TokenVerifier({ getTokens: () => [TOKEN] }, 64, false, false);
    const cases: unknown[] = [`${TOKEN}x`, `${TOKEN}, ${TOKEN}`, 'a'.repeat(65), 'with space', 'caf\u00e9', [`${TOKEN}x`], ['bad value']];
    for (const presented of cases) {
      const eager = verifier.verify(presented);
      expect(lazy.verify(presented)).toBe('mismatch');
      expect(lazy.classify(presented)).toBe(eager);
    }
    // The cases decided before any compare are the same either way.
    for (const presented of [undefined, '', [], [TOKEN, TOKEN], 42]) expect(lazy.verify(presented)).toBe(verifier.verify(presented));
    expect(lazy.verify(TOKEN)).toBeUndefined();
  });

  it('rebuilds the token set only when the source hands out a new snapshot', () => {
    let snapshot: readonly string[] = [TOKEN];
    let reads = 0;
    const source: DaprTokenSource = {
      getTokens: () => {
        reads++;
        return snapshot;
      },
    };
    const rotating = new TokenVerifier(source, 64);
    expect(rotating.verify(TOKEN)).toBeUndefined();
    expect(rotating.verify('new-token-0123456789')).toBe('mismatch');
    snapshot = ['new-token-0123456789'];
    expect(rotating.verify('new-token-0123456789')).toBeUndefined();
    expect(rotating.verify(TOKEN)).toBe('mismatch');
    expect(reads).toBe(4);
  });

  it('without a source (allowUnconfigured) accepts everything', () => {
    expect(new TokenVerifier(undefined, 64).verify(undefined)).toBeUndefined();
  });
});
