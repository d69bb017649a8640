import type { DaprTokenSource } from './dapr-token-source.js';

/**
 * A {@link DaprTokenSource} with a fixed list of tokens: what the `token` and `tokenEnvVar`
 * options build. Useful on its own in tests.
 */
export class StaticTokenSource implements DaprTokenSource {
  private readonly tokens: readonly string[];

  constructor(tokens: readonly string[]) {
    this.tokens = Object.freeze([...tokens]);
  }

  getTokens(): readonly string[] {
    return this.tokens;
  }
}
