import type { TokenRejection } from '../pipeline.types.js';
import type { DaprTokenSource } from './dapr-token-source.js';
import { isWellFormedToken } from './token-format.js';
import { TokenSet } from './token-set.js';

/**
 * Decides whether a presented token is accepted. It keeps a {@link TokenSet} for the token
 * source's current snapshot and rebuilds it only when the source hands out a new array.
 */
export class TokenVerifier {
  private snapshot: readonly string[] | undefined;
  private tokenSet = new TokenSet([]);
  /**
   * Which accepted token the last accepted verify() matched (0: the current one; more: a previous
   * one still in its grace period). Read right after verify(), which is synchronous.
   */
  lastMatch = -1;

  /**
   * `source` undefined: with `requireToken` (the `jwt` option without a token source) only the
   * format is checked, the JWT verifier does the rest; without it (`allowUnconfigured`),
   * everything is accepted.
   *
   * `classifyMismatches` false: a string that matches no accepted token is a `'mismatch'`
   * whatever its format, and {@link classify} tells a malformed one from a wrong one later, for
   * whoever needs to know (a log line, metrics). The format check is most of a rejection's work
   * beyond the compare (bench/history.md), and the reason changes nothing for the caller.
   */
  constructor(
    private readonly source: DaprTokenSource | undefined,
    private readonly maxTokenLength: number,
    private readonly requireToken = false,
    private readonly classifyMismatches = true,
  ) {}

  /** `undefined` when accepted, else the reason for the rejection. */
  verify(presented: unknown): TokenRejection | undefined {
    const source = this.source;
    // One string: what every transport delivers for one header or metadata entry.
    if (typeof presented === 'string' && presented !== '' && source !== undefined) return this.compare(presented, source);
    if (source === undefined && !this.requireToken) return undefined;
    let value = presented;
    if (Array.isArray(value)) {
      if (value.length > 1) return 'malformed';
      value = value[0];
    }
    if (value === undefined || value === null || value === '') return 'missing';
    if (typeof value !== 'string') return 'malformed';
    if (source === undefined) return isWellFormedToken(value, this.maxTokenLength) ? undefined : 'malformed';
    return this.compare(value, source);
  }

  private compare(presented: string, source: DaprTokenSource): TokenRejection | undefined {
    // Compared first: a token equal to an accepted one is well-formed, so only a mismatch needs
    // the format check, to tell the log whether it was malformed.
    const match = this.currentTokenSet(source).matchIndex(presented);
    this.lastMatch = match;
    if (match >= 0) return undefined;
    return this.classifyMismatches ? this.classify(presented) : 'mismatch';
  }

  /**
   * Why a token that verify() called a `'mismatch'` was refused, as verify() would have said with
   * `classifyMismatches`: `'malformed'` if it does not have a token's format, else `'mismatch'`.
   */
  classify(presented: unknown): 'malformed' | 'mismatch' {
    const value: unknown = Array.isArray(presented) && presented.length === 1 ? presented[0] : presented;
    return typeof value === 'string' && isWellFormedToken(value, this.maxTokenLength) ? 'mismatch' : 'malformed';
  }

  private currentTokenSet(source: DaprTokenSource): TokenSet {
    const tokens = source.getTokens();
    if (tokens !== this.snapshot) {
      this.snapshot = tokens;
      this.tokenSet = new TokenSet(tokens, this.maxTokenLength);
    }
    return this.tokenSet;
  }
}
