/**
 * Where the guard gets the tokens it currently accepts.
 *
 * The guard calls {@link DaprTokenSource.getTokens} on every request, so keep it cheap and
 * synchronous (cache whatever you fetch). Return the SAME array instance for as long as the
 * tokens do not change, and a new array when they do: the guard rebuilds its compare buffers only
 * when the reference changes, and each array is treated as an immutable snapshot.
 *
 * Return more than one token to rotate without downtime (accept the new and the old token until
 * every sidecar has restarted). Return an empty array to reject everything (fail closed).
 *
 * @example
 * ```ts
 * class VaultTokenSource implements DaprTokenSource {
 *   private tokens: readonly string[] = [];
 *   async refresh() { this.tokens = Object.freeze([await vault.read('dapr/app-token')]); }
 *   getTokens() { return this.tokens; }
 * }
 * DaprAuthModule.forRootAsync({
 *   inject: [VaultService],
 *   useFactory: async (vault: VaultService) => {
 *     const tokenSource = new VaultTokenSource(vault);
 *     await tokenSource.refresh();
 *     return { tokenSource };
 *   },
 * });
 * ```
 */
export interface DaprTokenSource {
  /** The tokens accepted right now. Never log them. */
  getTokens(): readonly string[];
  /** Called once when the application shuts down (stop timers and watchers here). */
  close?(): void | Promise<void>;
}
