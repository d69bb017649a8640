import type { Attributes, Counter, MeterProvider } from '@opentelemetry/api';
import { DaprAuthConfigError } from '../dapr-auth.errors.js';
import type { DaprAuthMetricsOptions } from '../dapr-auth.options.js';
import type { JwtVerifier } from '../jwt/jwt-verifier.js';
import type { DaprTokenSource } from '../tokens/dapr-token-source.js';
import { FileTokenSource } from '../tokens/file-token-source.js';
import type { DecisionOutcome, DecisionRecorder, TokenGeneration } from './decision-recorder.js';

/** The instrument names, in the OpenTelemetry semantic-convention style (documented in docs/observability.md). */
export const METRIC_NAMES = {
  decisions: 'dapr.auth.decisions',
  tokenAccepted: 'dapr.auth.token.accepted',
  tokens: 'dapr.auth.tokens',
  tokenFileGraceRemaining: 'dapr.auth.token_file.grace_period.remaining',
  tokenFileLastGoodRead: 'dapr.auth.token_file.last_good_read.age',
  tokenFileFailing: 'dapr.auth.token_file.failing',
  jwksAge: 'dapr.auth.jwks.age',
  jwksState: 'dapr.auth.jwks.state',
} as const;

type OtelApi = typeof import('@opentelemetry/api');

async function loadApi(): Promise<OtelApi> {
  try {
    // From CommonJS the namespace may only be on `default`; the ES module and CommonJS builds type import() differently.
    const loaded = (await import('@opentelemetry/api')) as unknown as { metrics?: unknown; default?: unknown };
    return (loaded.metrics ? loaded : loaded.default) as OtelApi;
  } catch {
    throw new DaprAuthConfigError(
      'option `metrics` needs the package @opentelemetry/api: npm install @opentelemetry/api (and an OpenTelemetry SDK to export them).',
    );
  }
}

/**
 * Decisions and token use as OpenTelemetry metrics: `@opentelemetry/api` is imported here only,
 * and only with the `metrics` option. Attribute objects are made once per combination, not per
 * request.
 */
export async function createOtelRecorder(
  options: DaprAuthMetricsOptions,
  sources: { tokenSource: DaprTokenSource | null; jwt: JwtVerifier | null },
): Promise<DecisionRecorder> {
  const api = await loadApi();
  const provider = (options.meterProvider as MeterProvider | undefined) ?? api.metrics.getMeterProvider();
  const meter = provider.getMeter('nestjs-dapr-auth');
  const decisions: Counter = meter.createCounter(METRIC_NAMES.decisions, {
    unit: '{request}',
    description: 'Requests DaprAuthGuard decided about, by transport, outcome and (for rejections) reason.',
  });
  const accepted: Counter = meter.createCounter(METRIC_NAMES.tokenAccepted, {
    unit: '{request}',
    description: 'Accepted requests by the generation of the token they carried: current, previous (a rotation in progress) or jwt.',
  });

  const { tokenSource, jwt } = sources;
  if (tokenSource) {
    meter
      .createObservableGauge(METRIC_NAMES.tokens, { unit: '{token}', description: 'Tokens accepted right now (more than one during a rotation).' })
      .addCallback((result) => result.observe(tokenSource.getTokens().length));
  }
  if (tokenSource instanceof FileTokenSource) {
    meter
      .createObservableGauge(METRIC_NAMES.tokenFileGraceRemaining, {
        unit: 's',
        description: 'Seconds the previous token stays accepted (0: no rotation in progress).',
      })
      .addCallback((result) => result.observe(tokenSource.status().graceRemainingMs / 1000));
    meter
      .createObservableGauge(METRIC_NAMES.tokenFileLastGoodRead, { unit: 's', description: 'Seconds since the token file was last read successfully.' })
      .addCallback((result) => result.observe((Date.now() - tokenSource.status().lastGoodReadAt) / 1000));
    meter
      .createObservableGauge(METRIC_NAMES.tokenFileFailing, {
        unit: '1',
        description: '1 while the token file is missing, unreadable, empty or invalid (the last good token stays accepted).',
      })
      .addCallback((result) => result.observe(tokenSource.status().failing ? 1 : 0));
  }
  if (jwt?.jwksStatus()) {
    meter.createObservableGauge(METRIC_NAMES.jwksAge, { unit: 's', description: 'Seconds since the remote JWKS was last fetched.' }).addCallback((result) => {
      const age = jwt.jwksStatus()?.ageSeconds;
      if (age !== undefined) result.observe(age);
    });
    meter
      .createObservableGauge(METRIC_NAMES.jwksState, { unit: '1', description: '1 for the remote JWKS state now: fresh, stale, expired or none.' })
      .addCallback((result) => {
        const state = jwt.jwksStatus()?.state;
        for (const candidate of ['fresh', 'stale', 'expired', 'none'] as const)
          result.observe(candidate === state ? 1 : 0, { 'dapr.auth.jwks.state': candidate });
      });
  }

  const attributes = new Map<string, Attributes>();
  const attributesOf = (key: string, make: () => Attributes): Attributes => {
    let found = attributes.get(key);
    if (found === undefined) attributes.set(key, (found = Object.freeze(make())));
    return found;
  };
  return {
    decision(transport: string, outcome: DecisionOutcome, reason?: string): void {
      const attrs = attributesOf(`${transport}|${outcome}|${reason ?? ''}`, () => ({
        'dapr.auth.transport': transport.toLowerCase(),
        'dapr.auth.outcome': outcome,
        ...(reason === undefined ? {} : { 'dapr.auth.reason': reason }),
      }));
      decisions.add(1, attrs);
    },
    tokenAccepted(generation: TokenGeneration, kid?: string): void {
      accepted.add(
        1,
        attributesOf(`${generation}|${kid ?? ''}`, () => ({
          'dapr.auth.token.generation': generation,
          ...(kid === undefined ? {} : { 'dapr.auth.jwt.kid': kid }),
        })),
      );
    },
  };
}
