import type { Attributes, MeterProvider } from '@opentelemetry/api';
import { DaprAuthConfigError } from '../../dapr-auth.errors.js';
import { importOptional } from '../../optional-import.js';
import type { DaprAuthMetricsOptions } from '../../options/dapr-auth.options.js';
import type { JwtVerifier } from '../../jwt/jwt-verifier.js';
import type { DaprTokenSource } from '../../tokens/dapr-token-source.js';
import { FileTokenSource } from '../../tokens/file-token-source.js';
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

/** One counted combination of attributes (made once) and its running total. */
interface Tally {
  readonly attributes: Attributes;
  value: number;
}

function tally(counts: Map<string, Map<string, Tally>>, first: string, second: string, attributes: () => Attributes): void {
  let inner = counts.get(first);
  if (inner === undefined) counts.set(first, (inner = new Map<string, Tally>()));
  const entry = inner.get(second);
  if (entry !== undefined) entry.value++;
  else inner.set(second, { attributes: Object.freeze(attributes()), value: 1 });
}

function observeAll(counts: Map<string, Map<string, Tally>>, result: { observe(value: number, attributes?: Attributes): void }): void {
  for (const inner of counts.values()) for (const { attributes, value } of inner.values()) result.observe(value, attributes);
}

async function loadApi(): Promise<OtelApi> {
  try {
    // From CommonJS the namespace may only be on `default`; the ES module and CommonJS builds type import() differently.
    const loaded = await importOptional<{ metrics?: unknown; default?: unknown }>('@opentelemetry/api');
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
  warn: (message: string) => void = () => undefined,
): Promise<DecisionRecorder> {
  const api = await loadApi();
  const provider = (options.meterProvider as MeterProvider | undefined) ?? api.metrics.getMeterProvider();
  const meter = provider.getMeter('nestjs-dapr-auth');
  // The class's name, without a bundler's suffix (`MeterProvider$1`).
  const providerName = ((provider as { constructor?: { name?: string } }).constructor?.name ?? '').replace(/\$\d+$/, '') || 'a MeterProvider';
  // @opentelemetry/api hands out its no-op provider until an SDK registers one: every measurement would be lost.
  const lost = providerName === 'NoopMeterProvider';
  if (lost) {
    warn(
      'option `metrics` is on, but no OpenTelemetry MeterProvider is registered: every measurement is lost. Register one before ' +
        'creating the Nest app or the check (metrics.setGlobalMeterProvider(new MeterProvider({ readers: [...] })) from @opentelemetry/sdk-metrics), ' +
        'or pass metrics: { meterProvider }.',
    );
  }
  const target = lost
    ? 'OpenTelemetry, but NO MeterProvider is registered (measurements lost)'
    : `OpenTelemetry, to ${options.meterProvider ? 'the given' : 'the global'} ${providerName}`;
  // The hot path only counts in plain numbers (two Map lookups by strings that already exist, no
  // allocation); OpenTelemetry reads them when it collects, through observable counters. A
  // synchronous Counter.add() hashes its attributes on every call: several µs per request.
  const decisionCounts = new Map<string, Map<string, Tally>>();
  const acceptedCounts = new Map<string, Map<string, Tally>>();
  meter
    .createObservableCounter(METRIC_NAMES.decisions, {
      unit: '{request}',
      description: 'Requests DaprAuthGuard decided about, by transport, outcome and (for rejections) reason.',
    })
    .addCallback((result) => observeAll(decisionCounts, result));
  meter
    .createObservableCounter(METRIC_NAMES.tokenAccepted, {
      unit: '{request}',
      description: 'Accepted requests by the generation of the token they carried: current, previous (a rotation in progress) or jwt.',
    })
    .addCallback((result) => observeAll(acceptedCounts, result));

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

  return {
    target,
    decision(transport: string, outcome: Exclude<DecisionOutcome, 'accepted'>, reason?: string): void {
      countDecision(transport, outcome, reason);
    },
    accepted(transport: string, generation: TokenGeneration, kid?: string): void {
      countDecision(transport, 'accepted');
      tally(acceptedCounts, generation, kid ?? '', () => ({
        'dapr.auth.token.generation': generation,
        ...(kid === undefined ? {} : { 'dapr.auth.jwt.kid': kid }),
      }));
    },
  };

  function countDecision(transport: string, outcome: DecisionOutcome, reason?: string): void {
    // A rejection's reason never equals an outcome's name, so one key tells them apart; a
    // deferral carries the same reasons as a rejection, so its key is prefixed.
    tally(decisionCounts, transport, outcome === 'deferred' ? `deferred:${reason ?? ''}` : (reason ?? outcome), () => ({
      'dapr.auth.transport': transport.toLowerCase(),
      'dapr.auth.outcome': outcome,
      ...(reason === undefined ? {} : { 'dapr.auth.reason': reason }),
    }));
  }
}
