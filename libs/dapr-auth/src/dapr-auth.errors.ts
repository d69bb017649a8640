/**
 * A start-up error in the module's configuration. Its message never contains a token, and names
 * the fix; it carries no stack frames (they would only point into Nest's bootstrap), so that Nest,
 * or Node for a rejected `listen()`, prints it as one clear error rather than as a crash.
 */
export class DaprAuthConfigError extends Error {
  /** @param source what was configured: `DaprAuthModule`, or `createDaprTokenCheck` (the check without Nest) */
  constructor(problem: string, source = 'DaprAuthModule') {
    super(`${source}: ${problem}`);
    this.name = 'DaprAuthConfigError';
    this.stack = `${this.name}: ${this.message}`;
  }
}
