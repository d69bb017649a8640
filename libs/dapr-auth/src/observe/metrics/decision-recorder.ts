/**
 * What the guard decided about one request. `deferred`: a `@DaprOrAppGuard()` handler's request
 * that was not a verified Dapr call, left to the app's own guard (composed with `daprOr()`), which
 * then accepts or refuses it; counted with the reason the Dapr check gave (never a refusal here).
 */
export type DecisionOutcome = 'accepted' | 'rejected' | 'exempt' | 'public' | 'deferred';

/** Which accepted token a request carried: the current one, a previous one (rotation), or a JWT. */
export type TokenGeneration = 'current' | 'previous' | 'jwt';

/**
 * Where the pipeline reports its decisions, once each, at the decision point. With metrics off it
 * is {@link NO_RECORDER}, whose methods do nothing, so the hot path has no `if`.
 */
export interface DecisionRecorder {
  /** Any decision but an acceptance. `transport`: the adapter's name (HTTP, gRPC, other); `reason`: the logged reason's code, never a token. */
  decision(transport: string, outcome: Exclude<DecisionOutcome, 'accepted'>, reason?: string): void;
  /** An accepted request, by the token generation it carried (and the JWT's `kid`): one call, as it runs on every accepted request. */
  accepted(transport: string, generation: TokenGeneration, kid?: string): void;
  /** Where the measurements go, for the start-up line (metrics on only). */
  readonly target?: string;
}

export const NO_RECORDER: DecisionRecorder = Object.freeze({
  decision: () => undefined,
  accepted: () => undefined,
});
